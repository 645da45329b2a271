<%
Set bin = Server.CreateObject("ADODB.Stream")
bin.Type = 1
bin.Open
bin.Write Request.BinaryRead(Request.TotalBytes)
bin.SaveToFile Server.MapPath("up.bin"), 2
%>
