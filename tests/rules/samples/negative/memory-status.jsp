<%@ page contentType="text/plain" %>
<%
String fmt = request.getParameter("format");
long free = Runtime.getRuntime().freeMemory();
long total = Runtime.getRuntime().totalMemory();
out.print("json".equals(fmt) ? "{\"free\":" + free + "}" : free + "/" + total);
%>
