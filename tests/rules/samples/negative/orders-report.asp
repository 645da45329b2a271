<%
id = Request("id")
Set conn = Server.CreateObject("ADODB.Connection")
conn.Open Application("dsn")
sql = "SELECT total FROM orders WHERE id = " & CLng(id)
conn.Execute(sql)
Set rs = conn.Execute(BuildQuery(id))
rs.Open sql, conn
Response.Write rs("total")
%>
