<%@ page contentType="text/html; charset=UTF-8" %>
<%
String q = request.getParameter("q");
if (q == null) { q = ""; }
%>
<p>Results for <%= org.apache.commons.text.StringEscapeUtils.escapeHtml4(q) %></p>
