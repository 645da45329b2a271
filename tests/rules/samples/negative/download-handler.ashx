<%@ WebHandler Language="C#" Class="Download" %>
using System.IO;
using System.Web;
public class Download : IHttpHandler {
    public void ProcessRequest(HttpContext context) {
        string FileName = context.Request.QueryString["FileName"];
        string FolderName = context.Request.QueryString["FolderName"];
        var file = new FileInfo(Path.Combine(context.Server.MapPath("~/files"), Path.GetFileName(FileName)));
        context.Response.AddHeader("Content-Disposition", "attachment; filename=" + file.Name);
        context.Response.WriteFile(file.FullName);
    }
    public bool IsReusable { get { return false; } }
}
