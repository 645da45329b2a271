<%@ Page Language="C#" %>
<%@ Import Namespace="System.Xml" %>
<%@ Import Namespace="System.Xml.Xsl" %>
<%
string xsl = @"<xsl:stylesheet version='1.0' xmlns:xsl='http://www.w3.org/1999/XSL/Transform' xmlns:msxsl='urn:schemas-microsoft-com:xslt' xmlns:u='urn:u'>
<msxsl:script language='JScript' implements-prefix='u'>function f(){ return 1; }</msxsl:script>
<xsl:template match='/'><xsl:value-of select='u:f()'/></xsl:template></xsl:stylesheet>";
var doc = new XmlDocument(); doc.LoadXml(xsl);
var settings = new XsltSettings(false, true);
var t = new XslCompiledTransform();
t.Load(doc, settings, new XmlUrlResolver());
%>
