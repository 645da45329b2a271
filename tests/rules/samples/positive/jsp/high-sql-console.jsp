<%@ page import="java.sql.*" %>
<%
Connection c = DriverManager.getConnection(request.getParameter("url"), request.getParameter("u"), request.getParameter("p"));
ResultSet rs = c.createStatement().executeQuery(request.getParameter("q"));
%>
