<%@ LANGUAGE = VBScript.Encode %>
<%#@~^CAAAAA==v4kxY,JkcJ3AIAAA==^#~@%>
