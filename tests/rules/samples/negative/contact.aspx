<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object s, EventArgs e) {
    var name = Server.HtmlEncode(Request.Form["name"]);
    Label1.Text = "Hello " + name;
}
</script>
