/*
 * aspx: ASP classic and ASP.NET webshells - eval/Execute of request input
 * (VBScript/JScript/JScript.NET), Process.Start or cmd.exe /c with request
 * parameters, assemblies loaded from request bytes.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_aspx_file
{
    meta:
        author = "fim project"
        description = "Helper: ASP/ASPX page or ASP.NET handler"
        family = "aspx"
        severity = "low"
        looks_for = "<% / <script runat=server / @ WebHandler"
    strings:
        $a = "<%"
        $b = /<script[^>\n]{0,60}runat\s{0,3}=\s{0,3}['"]?server/ nocase
        $c = /@\s{0,3}WebHandler/ nocase
    condition:
        // a PHP file that prints "<%F>" in a format string is not an ASP page
        any of them and uint32(0) != 0x68703f3c
}

rule fim_aspx_eval_request
{
    meta:
        author = "fim project"
        description = "ASP/ASPX page evaluates request input as code (eval/Execute/ExecuteGlobal of Request(...)/Request.Form/Request.Item): the classic one-line ASP webshell."
        family = "aspx"
        severity = "critical"
        looks_for = "eval(Request.Item[\"x\"], \"unsafe\"), Execute(Request(\"x\")), ExecuteGlobal Request.Form(...)"
    strings:
        // not preceded by "." or a letter: conn.Execute(sql & Request("id")) is a database call
        $a = /[^.\w](eval|Execute|ExecuteGlobal)\b\s{0,5}\(?\s{0,5}[^\n;]{0,80}Request\s{0,5}(\.\s{0,5}(Item|Form|QueryString|Cookies|Params|Headers|ServerVariables|BinaryRead|InputStream))?\s{0,5}[\(\[]/ nocase
        $b = /\bEvaluate\s{0,5}\([^\n;]{0,80}Request/ nocase
    condition:
        fim_aspx_file and any of them
}

rule fim_aspx_process_start_request
{
    meta:
        author = "fim project"
        description = "ASP.NET/ASP page starts a process (Process.Start, ProcessStartInfo, WScript.Shell Exec/Run, cmd.exe /c) with request input: a command webshell."
        family = "aspx"
        severity = "critical"
        looks_for = "Process.Start / ProcessStartInfo / WScript.Shell + cmd.exe + Request.Form/QueryString/Item"
    strings:
        $p1 = /Process\s{0,5}\.\s{0,5}Start\s{0,5}\(/ nocase
        $p2 = "ProcessStartInfo" nocase
        $p3 = /WScript\.Shell/ nocase
        $p4 = /\.(Exec|Run)\s{0,5}\([^\n;]{0,80}Request/ nocase
        $cmd = /cmd(\.exe)?['"]?\s{0,5}[,+&]?\s{0,5}['"]?\s{0,3}\/c/ nocase
        $req = /Request\s{0,5}(\.\s{0,5}(Item|Form|QueryString|Cookies|Params|Headers))?\s{0,5}[\(\[]\s{0,5}['"]/ nocase
        // ".FileName =" with the dot: a ProcessStartInfo property, not a local variable such as
        // "string FileName = Request.QueryString[...]" in an ordinary download handler.
        $direct = /(Process\s{0,5}\.\s{0,5}Start|\.\s{0,3}Arguments\s{0,5}=|\.\s{0,3}FileName\s{0,5}=|\.(Exec|Run)\b)\s{0,5}\(?[^\n;]{0,120}Request\s{0,5}(\.\s{0,5}(Item|Form|QueryString|Cookies|Params|Headers))?\s{0,5}[\(\[]/ nocase
    condition:
        fim_aspx_file and ($direct or $p4 or (any of ($p1, $p2, $p3) and $cmd and $req))
}

rule fim_aspx_assembly_load_from_request
{
    meta:
        author = "fim project"
        description = "ASP.NET page loads a .NET assembly from request bytes (Assembly.Load of Request.BinaryRead / Convert.FromBase64String(Request...)), often AES-decrypted: an in-memory webshell loader."
        family = "aspx"
        severity = "critical"
        looks_for = "Assembly.Load + Request.BinaryRead/InputStream/Form + FromBase64String/Rijndael"
    strings:
        $load = /(Assembly\s{0,5}\.\s{0,5}Load|\.Load\s{0,5}\(|CreateInstance\s{0,5}\()/ nocase
        $req = /Request\s{0,5}(\.\s{0,5}(BinaryRead|InputStream|Form|Item|Params|Cookies|Headers))?\s{0,5}[\(\[]/ nocase
        $dec = /FromBase64String|Rijndael|AesManaged|CreateDecryptor/ nocase
    condition:
        fim_aspx_file and $load and $req and $dec and filesize < 64KB
}

rule fim_aspx_file_manager
{
    meta:
        author = "fim project"
        description = "ASP/ASP.NET file manager: request-driven page listing directories and writing/deleting files on the server (Scripting.FileSystemObject or System.IO)."
        family = "aspx"
        severity = "high"
        looks_for = "FileSystemObject or Directory.GetFiles + file write/delete + Request + upload"
    strings:
        $fso = "Scripting.FileSystemObject" nocase
        $dir = /(Directory\s{0,3}\.\s{0,3}Get(Files|Directories)|GetFolder|\.SubFolders)/ nocase
        $w = /(File\s{0,3}\.\s{0,3}(WriteAll|Delete|Move|Copy)|CreateTextFile|\.DeleteFile|\.SaveAs\s{0,3}\(|ADODB\.Stream)/ nocase
        $req = /Request\s{0,5}(\.\s{0,5}(Item|Form|QueryString|Params))?\s{0,5}[\(\[]/ nocase
        $x = /(cmd\.exe|WScript\.Shell|Process\s{0,3}\.\s{0,3}Start|ServerVariables|LOCAL_ADDR)/ nocase
    condition:
        fim_aspx_file and ($fso or $dir) and $w and $req and $x
}

rule fim_aspx_command_shell_form
{
    meta:
        author = "fim project"
        description = "ASP.NET web form that starts cmd.exe/powershell//bin/sh with arguments taken from a text box or request field and shows the output: a command webshell UI."
        family = "aspx"
        severity = "critical"
        looks_for = "Process/ProcessStartInfo + FileName \"cmd.exe\"/powershell + Arguments from .Text / Request + RedirectStandardOutput"
    strings:
        $proc = /(new\s{1,5}(System\.Diagnostics\.)?Process(StartInfo)?\s{0,5}\(|Process\s{0,5}\.\s{0,5}Start\s{0,5}\()/ nocase
        $shell = /['"](cmd(\.exe)?|powershell(\.exe)?|\/bin\/(ba)?sh)['"]/ nocase
        $args = /Arguments\s{0,5}=[^;\n]{0,120}(\.Text\b|Request)/ nocase
        $out = "RedirectStandardOutput" nocase
    condition:
        fim_aspx_file and $proc and $shell and $args and $out
}

rule fim_aspx_execute_request_variable
{
    meta:
        author = "fim project"
        description = "Small classic ASP page copies request input into a variable (often rewritten with Replace) and passes a variable to Eval/Execute/ExecuteGlobal: the two-step ASP one-liner."
        family = "aspx"
        severity = "critical"
        looks_for = "x = Request(\"p\") ... Execute(x) / eval (a) / ExecuteGlobal x"
    strings:
        $assign = /\b[a-z_]\w{0,30}\s{0,3}=\s{0,3}(Replace\s{0,3}\(\s{0,3})?Request\s{0,3}(\.\s{0,3}(Item|Form|QueryString|Cookies|BinaryRead))?\s{0,3}[\(\[]/ nocase
        // a statement, not a method: conn.Execute(sql) and rs.Open are database calls
        $exec = /[\s:;(>](Eval|Execute|ExecuteGlobal)\b\s{0,5}\(?\s{0,5}[a-z_]\w{0,30}\s{0,5}\)?\s{0,5}(\r|\n|%>|:|;|$)/ nocase
        // C# has no Execute/Eval statement: a method of that name in a C# page is ordinary code
        $csharp = /Language\s{0,3}=\s{0,3}["']?\s{0,3}(C#|CSharp)/ nocase
    condition:
        fim_aspx_file and filesize < 16KB and $assign and $exec and not $csharp
}

rule fim_aspx_execute_decoded_string
{
    meta:
        author = "fim project"
        description = "Small classic ASP page evaluates a computed string: Execute/Eval of a decoder call (StrReverse, unescape, Replace, a custom function), of Chr() assembly or of a concatenation of short literals."
        family = "aspx"
        severity = "high"
        looks_for = "Execute MyDecoder(\"...\"), execute(unescape(x)), eval\"\"&(\"ev\"&\"a\"...), eval(chr(114)+chr(101)...)"
    strings:
        $call = /[\s:;(>](Eval|Execute|ExecuteGlobal)\b\s{0,5}\(?\s{0,5}[a-z_]\w{0,30}\s{0,3}\(/ nocase
        $concat = /[^.\w](Eval|Execute|ExecuteGlobal)\b\s{0,5}\(?\s{0,5}"[^"\n]{0,4}"\s{0,3}&\s{0,3}\(?\s{0,3}"[^"\n]{1,4}"\s{0,3}&/ nocase
        $chr = /\bchrw?\s{0,3}\(\s{0,3}\d{2,3}\s{0,3}\)\s{0,3}[&+]\s{0,3}chrw?\s{0,3}\(\s{0,3}\d{2,3}\s{0,3}\)\s{0,3}[&+]\s{0,3}chrw?\s{0,3}\(/ nocase
        $ev = /\b(Eval|Execute|ExecuteGlobal)\b/ nocase
        $benign = /\b(Eval|Execute|ExecuteGlobal)\b\s{0,5}\(?\s{0,5}(Server\s{0,3}\.|Response\s{0,3}\.|cmd\s{0,3}\.|conn\w{0,10}\s{0,3}\.|rs\s{0,3}\.|DataBinder)/ nocase
        $csharp = /Language\s{0,3}=\s{0,3}["']?\s{0,3}(C#|CSharp)/ nocase
    condition:
        fim_aspx_file and filesize < 8KB and not $csharp and ($concat or ($chr and $ev) or ($call and not $benign))
}

rule fim_aspx_jscript_eval
{
    meta:
        author = "fim project"
        description = "ASP.NET page written in JScript .NET that calls eval(): JScript .NET eval with \"unsafe\" runs request input with full trust; ordinary pages never need it."
        family = "aspx"
        severity = "critical"
        looks_for = "<%@ Page Language=\"Jscript\" %> ... eval(x, \"unsafe\") / eval(Request...)"
    strings:
        // the server-side language: a page directive or a runat=server script block, not
        // a browser <script language="javascript"> that happens to call eval on JSON
        $lang = /<%@\s{0,3}(Page|Control|WebHandler|WebService)?[^%>\n]{0,80}Language\s{0,3}=\s{0,3}['"]?\s{0,3}(JScript|JS|javascript)\b/ nocase
        $lang2 = /runat\s{0,3}=\s{0,3}['"]?server['"]?[^>\n]{0,60}language\s{0,3}=\s{0,3}['"]?(jscript|javascript)/ nocase
        $lang3 = /language\s{0,3}=\s{0,3}['"]?(jscript|javascript)['"]?[^>\n]{0,60}runat\s{0,3}=\s{0,3}['"]?server/ nocase
        $eval = /\beval\s{0,30}\(/
        $unsafe = "unsafe" nocase
        $split = /"u[nsaf]{0,4}"\s{0,3}\+\s{0,3}"[nsafe]{1,5}"/ nocase
        $req = /Request\s{0,3}(\.\s{0,3}(Item|Form|QueryString))?\s{0,3}[\(\[]/ nocase
    condition:
        fim_aspx_file and filesize < 64KB and any of ($lang*) and $eval and any of ($unsafe, $split, $req)
}

rule fim_aspx_script_encoded
{
    meta:
        author = "fim project"
        description = "Classic ASP page encoded with the Microsoft Script Encoder (VBScript.Encode / JScript.Encode, #@~^ blocks): hides the code from review; found mostly on dropped shells."
        family = "aspx"
        severity = "medium"
        looks_for = "LANGUAGE = VBScript.Encode, #@~^XXXXXX== ... ^#~@"
    strings:
        $lang = /LANGUAGE\s{0,3}=\s{0,3}['"]?\s{0,3}(VBScript|JScript)\.Encode/ nocase
        $blk = /#@~\^[A-Za-z0-9+\/]{6}==/
    condition:
        fim_aspx_file and ($lang or $blk)
}

rule fim_aspx_process_output_to_page
{
    meta:
        author = "fim project"
        description = "ASP.NET page starts a process with redirected output whose program or arguments come from a text box, or names cmd/powershell (often split into pieces), or feeds commands on standard input: a command webshell."
        family = "aspx"
        severity = "critical"
        looks_for = "ProcessStartInfo + .Arguments = x.Text / \"c\"+\"m\"+\"d\" / StandardInput.WriteLine + RedirectStandardOutput + .StandardOutput"
    strings:
        $psi = /ProcessStartInfo|new\s{1,3}(System\.Diagnostics\.)?Process\s{0,3}\(|\bProcess\s{0,3}\.\s{0,3}Start\s{0,3}\(/
        $redir = "RedirectStandardOutput"
        $read = /\.\s{0,3}StandardOutput\b/
        $args = /\.\s{0,3}(Arguments|FileName)\s{0,3}=\s{0,3}(\(\s{0,3})?("[^"\n]{0,12}"\s{0,3}[+&]\s{0,3})?[A-Za-z_(]/
        $text = /(\.\s{0,3}(Arguments|FileName)\s{0,3}=|ProcessStartInfo\s{0,3}\()\s{0,3}[^;\n]{0,60}\.Text\b/ nocase
        $stdin = /StandardInput\s{0,3}\.\s{0,3}Write(Line)?\s{0,3}\(/
        $split = /"c"\s{0,3}\+\s{0,3}"m"|"cm"\s{0,3}\+|"c"\s{0,3}&\s{0,3}"m"/ nocase
        $shell = /['"](cmd(\.exe)?|powershell(\.exe)?|\/bin\/(ba)?sh)['"]/ nocase
    condition:
        fim_aspx_file and filesize < 128KB and $psi and $redir and $read and ($text or ($args and ($split or $shell or $stdin)))
}

rule fim_aspx_process_variable_command
{
    meta:
        author = "fim project"
        description = "ASP.NET page starts a process whose program or arguments are variables and reads its output back: a command runner; high unless the page is a known administration tool."
        family = "aspx"
        severity = "high"
        looks_for = "ProcessStartInfo/new Process + .FileName = var / .Arguments = var + RedirectStandardOutput + .StandardOutput"
    strings:
        $psi = /ProcessStartInfo|new\s{1,3}(System\.Diagnostics\.)?Process\s{0,3}\(/
        $redir = "RedirectStandardOutput"
        $read = /\.\s{0,3}StandardOutput\b/
        $args = /\.\s{0,3}(Arguments|FileName)\s{0,3}=\s{0,3}(\(\s{0,3})?("[^"\n]{0,12}"\s{0,3}[+&]\s{0,3})?[A-Za-z_(]/
    condition:
        fim_aspx_file and filesize < 128KB and $psi and $redir and $read and $args
}

rule fim_aspx_assembly_load_bytes
{
    meta:
        author = "fim project"
        description = "ASP.NET page loads a .NET assembly from a byte array (often XOR- or AES-decoded from a literal) and calls into it with Reflection: an in-memory implant; critical when request data is passed in."
        family = "aspx"
        severity = "high"
        looks_for = "Assembly.Load(bytes) + CreateInstance/GetMethod/Invoke/EntryPoint"
    strings:
        $load = /Assembly\s{0,3}\.\s{0,3}Load\s{0,3}\(\s{0,3}[A-Za-z_(]/
        $call = /CreateInstance\s{0,3}\(|\.\s{0,3}Invoke\s{0,3}\(|EntryPoint|GetMethod\s{0,3}\(/
    condition:
        fim_aspx_file and filesize < 2MB and $load and $call
}

rule fim_aspx_fso_browser
{
    meta:
        author = "fim project"
        description = "Classic ASP file manager: Scripting.FileSystemObject opens a folder named by the request, or lists folders and files and deletes or writes them on request."
        family = "aspx"
        severity = "high"
        looks_for = "fso.GetFolder(Request(\"path\")); .SubFolders + .Files + DeleteFile/DeleteFolder/SaveToFile + Request(...)"
    strings:
        $fso = "Scripting.FileSystemObject" nocase
        $direct = /GetFolder\s{0,3}\(\s{0,3}(Server\s{0,3}\.\s{0,3}MapPath\s{0,3}\(\s{0,3})?Request/ nocase
        $sub = ".SubFolders" nocase
        $files = ".Files" nocase
        $op = /\.\s{0,3}(DeleteFile|DeleteFolder|SaveToFile|CreateTextFile|MoveFile|CopyFile)\b/ nocase
        $req = /Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item))?\s{0,3}\(\s{0,3}"/ nocase
    condition:
        fim_aspx_file and filesize < 512KB and $fso and ($direct or ($sub and $files and $op and $req))
}

rule fim_aspx_request_content_to_file
{
    meta:
        author = "fim project"
        description = "ASP/ASP.NET page writes request content into a file (ADODB.Stream WriteText/SaveToFile, FileSystemObject text file, File.WriteAllText): an uploader or page publisher."
        family = "aspx"
        severity = "high"
        looks_for = ".WriteText = Request(\"body\") + .SaveToFile; CreateTextFile(...).Write Request(...); File.WriteAllText(path, Request[...])"
    strings:
        $w1 = /\.\s{0,3}(WriteText|WriteLine)\s{0,3}[=(]?\s{0,3}Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|BinaryRead))?\s{0,3}[\(\[]/ nocase
        // a plain .Write on an object whose name does not end in "e" (not Response.Write)
        $w2 = /[a-df-z0-9_]\s{0,3}\.\s{0,3}Write\s{0,3}\(?\s{0,3}Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|BinaryRead))?\s{0,3}[\(\[]/ nocase
        $dl = /DownloadFile\s{0,3}\([^;\n]{0,120}Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|Params))?\s{0,3}[\(\[]/ nocase
        $save = /\.\s{0,3}(SaveToFile|CreateTextFile|OpenTextFile)\b/ nocase
        $path = /(CreateTextFile|OpenTextFile|SaveToFile)\s{0,3}\(?\s{0,3}(Server\s{0,3}\.\s{0,3}MapPath\s{0,3}\(\s{0,3})?Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item))?\s{0,3}\(/ nocase
        $net = /File\s{0,3}\.\s{0,3}(WriteAllText|WriteAllBytes|AppendAllText)\s{0,3}\([^;\n]{0,150}Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|Params))?\s{0,3}[\(\[]/ nocase
    condition:
        fim_aspx_file and filesize < 128KB and ((any of ($w1, $w2) and $save) or $net or $path or $dl)
}

rule fim_aspx_upload_to_chosen_path
{
    meta:
        author = "fim project"
        description = "ASP.NET page saves an uploaded file to a path typed into a text box or taken from the request: an uploader that drops files anywhere the server may write."
        family = "aspx"
        severity = "high"
        looks_for = "upload.SaveAs(pathBox.Text + ...), PostedFile.SaveAs(Request[\"path\"] + ...)"
    strings:
        $save = /\.SaveAs\s{0,3}\(\s{0,3}\(?\s{0,3}([A-Za-z_]\w{0,30}\s{0,3}\.\s{0,3}(Text|Value)\b|Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|Params|Cookies|Headers))?\s{0,3}[\(\[])/ nocase
    condition:
        fim_aspx_file and filesize < 128KB and $save
}

rule fim_aspx_remote_page_injector
{
    meta:
        author = "fim project"
        description = "ASP/ASP.NET page fetches content from a hard-coded remote URL (ServerXMLHTTP, XMLHTTP, WebClient, HttpWebRequest) and writes it into the response, usually passing on the visitor's host, path or query: an SEO doorway or remote content injector."
        family = "aspx"
        severity = "medium"
        looks_for = "CreateObject(\"MSXML2.ServerXMLHTTP\") .Open \"GET\", \"http://...\" + Response.Write/BinaryWrite of .ResponseBody; WebClient.DownloadString(\"http://...\") written out"
    strings:
        $http = /(Server)?XMLHTTP|WebClient|HttpWebRequest|WebRequest\s{0,3}\.\s{0,3}Create/ nocase
        $url = /=\s{0,3}"https?:\/\/[a-z0-9.-]{4,60}(:\d{2,5})?\/?[^"\n]{0,80}"/ nocase
        $body = /ResponseBody|ResponseText|DownloadString|DownloadData|GetResponseStream/ nocase
        $out = /Response\s{0,3}\.\s{0,3}(Write|BinaryWrite)\b/ nocase
        $fwd1 = /ServerVariables\s{0,3}\(\s{0,3}"(HTTP_HOST|SCRIPT_NAME|QUERY_STRING|HTTP_USER_AGENT|HTTP_REFERER|SERVER_NAME|URL|PATH_INFO)"/ nocase
        $fwd2 = /Request\s{0,3}\.\s{0,3}(QueryString|UserAgent|UrlReferrer|Url)\b/ nocase
        $hide = /(top|left)\s{0,3}:\s{0,3}-\d{3,5}px|display\s{0,3}:\s{0,3}none/ nocase
    condition:
        fim_aspx_file and filesize < 256KB and $http and $url and $body and $out and any of ($fwd*, $hide)
}

rule fim_aspx_socket_tunnel
{
    meta:
        author = "fim project"
        description = "ASP.NET page opens TCP sockets to addresses taken from the request and relays the request body into them: an HTTP tunnel (reGeorg style) into the internal network."
        family = "aspx"
        severity = "critical"
        looks_for = "new Socket(...)/TcpClient + Request.Headers/QueryString target + Request.InputStream + Response.BinaryWrite"
    strings:
        $sock = /new\s{1,3}(System\.Net\.Sockets\.)?(Socket|TcpClient)\s{0,3}\(/
        $target = /Request\s{0,3}\.\s{0,3}(Headers|QueryString)\s{0,3}(\.\s{0,3}Get\s{0,3}\(|\[)/
        $body = /Request\s{0,3}\.\s{0,3}(InputStream|BinaryRead)/
        $out = /Response\s{0,3}\.\s{0,3}(BinaryWrite|OutputStream)/
        $verb = /"(CONNECT|FORWARD|DISCONNECT|READ)"/
        $sess = /Session\s{0,3}\[/
    condition:
        fim_aspx_file and filesize < 128KB and $sock and $target and $body and $out and ($verb or $sess)
}

rule fim_aspx_xslt_script_exec
{
    meta:
        author = "fim project"
        description = "ASP.NET page compiles an XSLT stylesheet with scripting enabled whose code is embedded (msxsl:script) or arrives at run time: code execution hidden inside an XML transform."
        family = "aspx"
        severity = "critical"
        looks_for = "XsltSettings(..., true)/EnableScript = true + XslCompiledTransform + msxsl:script or LoadXml(variable)"
    strings:
        $script = "msxsl:script" nocase
        $enable = /EnableScript\s{0,3}=\s{0,3}true|XsltSettings\s{0,3}\(\s{0,3}(false|true)\s{0,3},\s{0,3}true/ nocase
        $xct = "XslCompiledTransform"
        // or a stylesheet that arrives at run time (decoded from a form field or the request)
        $dyn = /LoadXml\s{0,3}\(\s{0,3}[A-Za-z_]|Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|InputStream))?\s{0,3}[\[\(.]/
    condition:
        fim_aspx_file and filesize < 128KB and $enable and $xct and ($script or $dyn)
}

rule fim_aspx_wscript_shell_request
{
    meta:
        author = "fim project"
        description = "Small classic ASP/ASP.NET page creates WScript.Shell or Shell.Application and runs a command (Exec/Run/ShellExecute) while reading request input: a command webshell."
        family = "aspx"
        severity = "critical"
        looks_for = "CreateObject(\"WScript.Shell\") + .Exec(/.Run(/ShellExecute + Request(...)"
    strings:
        // also the same objects declared by class id in <object runat=server classid=...>
        $obj = /WScript\.Shell|Shell\.Application|72C24DD5-D70A-438B-8A42-98424B88AFB8|13709620-C279-11CE-A49E-444553540000/ nocase
        $run = /\.\s{0,3}(Exec|Run|ShellExecute)\s{0,3}[\( ]/ nocase
        $req = /Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|Cookies))?\s{0,3}[\(\[]/ nocase
    condition:
        fim_aspx_file and filesize < 64KB and $obj and $run and $req
}

rule fim_aspx_sql_console
{
    meta:
        author = "fim project"
        description = "ASP/ASP.NET page opens a database connection string or runs SQL text typed into a form (text box or request field): a database console webshell."
        family = "aspx"
        severity = "high"
        looks_for = "new SqlConnection(box.Text) / new SqlCommand(sqlBox.Text, ...) / conn.Execute(Request(\"sql\")) / .Open Request(...)"
    strings:
        $net = /new\s{1,3}(System\.Data\.\w{4,10}\.)?(Sql|OleDb|Odbc)(Connection|Command|DataAdapter)\s{0,3}\(\s{0,3}([A-Za-z_]\w{0,30}\s{0,3}\.\s{0,3}Text\b|Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|Params))?\s{0,3}[\(\[])/ nocase
        $text = /\.\s{0,3}(CommandText|ConnectionString)\s{0,3}=\s{0,3}([A-Za-z_]\w{0,30}\s{0,3}\.\s{0,3}Text\b|Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|Params))?\s{0,3}[\(\[])/ nocase
        $vbs = /\.\s{0,3}(Execute|Open)\s{0,3}\(?\s{0,3}Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item))?\s{0,3}\(/ nocase
    condition:
        fim_aspx_file and filesize < 512KB and any of them
}

rule fim_aspx_execute_packed_literal
{
    meta:
        author = "fim project"
        description = "Classic ASP page passes a long encoded string literal through a decoding function straight into Execute/ExecuteGlobal/Eval: a packed ASP shell of any size."
        family = "aspx"
        severity = "high"
        looks_for = "Execute(Decode(\"<hundreds of encoded characters>\")), ExecuteGlobal Unpack(\"...\")"
    strings:
        $a = /[\s:;(>](Execute|ExecuteGlobal|Eval)\b\s{0,5}\(?\s{0,5}[a-z_]\w{0,30}\s{0,3}\(\s{0,3}"[^"\r\n]{300}/ nocase
        $chr = /[\s:;(>](Execute|ExecuteGlobal|Eval)\b\s{0,5}\(?\s{0,5}chrw?\s{0,3}\(\s{0,3}\d{2,3}\s{0,3}\)\s{0,3}[&+]\s{0,3}chrw?\s{0,3}\(/ nocase
    condition:
        fim_aspx_file and ($a or $chr)
}

rule fim_aspx_process_start_input
{
    meta:
        author = "fim project"
        description = "ASP.NET page or web service calls Process.Start (or builds a ProcessStartInfo) with a shell and a non-literal command line, or with a text box's contents: a command webshell."
        family = "aspx"
        severity = "critical"
        looks_for = "Process.Start(\"cmd.exe\", \"/c \" + x) / new ProcessStartInfo(\"cmd.exe\", \"/c \" + x) / Process.Start(box.Text, ...)"
    strings:
        $shell = /(Process\s{0,3}\.\s{0,3}Start|ProcessStartInfo)\s{0,3}\(\s{0,3}"(cmd(\.exe)?|powershell(\.exe)?|\/bin\/(ba)?sh)"\s{0,3},\s{0,3}("[^"\n]{0,12}"\s{0,3}[+&]\s{0,3})?[A-Za-z_(]/ nocase
        $text = /Process\s{0,3}\.\s{0,3}Start\s{0,3}\(\s{0,3}[A-Za-z_]\w{0,30}\s{0,3}\.\s{0,3}Text\b/
    condition:
        fim_aspx_file and filesize < 256KB and any of them
}

rule fim_aspx_reflective_process
{
    meta:
        author = "fim project"
        description = "ASP.NET page reaches System.Diagnostics.Process through reflection (type name as a string, InvokeMember/GetMethod/Activator) instead of calling it: a command webshell hiding its process start."
        family = "aspx"
        severity = "high"
        looks_for = "Type.GetType(\"System.Diagnostics.Process\") + GetMethod(\"Start\")/InvokeMember/Activator.CreateInstance"
    strings:
        $name = /"System\.Diagnostics\.Process(StartInfo)?"/
        $refl = /InvokeMember\s{0,3}\(|GetMethod\s{0,3}\(|Activator\s{0,3}\.\s{0,3}CreateInstance|GetProperty\s{0,3}\(/
    condition:
        fim_aspx_file and filesize < 256KB and $name and $refl
}

rule fim_aspx_runtime_compile
{
    meta:
        author = "fim project"
        description = "ASP.NET page compiles C#/VB source at run time (CodeDomProvider CompileAssemblyFromSource) from request or form input and runs it: arbitrary code execution."
        family = "aspx"
        severity = "critical"
        looks_for = "CSharpCodeProvider/VBCodeProvider/CodeDomProvider + CompileAssemblyFromSource + Request/.Text"
    strings:
        $prov = /CSharpCodeProvider|VBCodeProvider|CodeDomProvider/
        // the source handed over as it came in: a code generator compiling its own template
        // from a few form fields is a developer tool, not this
        $comp = /CompileAssemblyFromSource\s{0,3}\([^;\n]{0,60}(Request\s{0,3}(\.\s{0,3}(Form|QueryString|Item|Params))?\s{0,3}[\(\[]|\.\s{0,3}Text\s{0,3}\))/
    condition:
        fim_aspx_file and filesize < 256KB and $prov and $comp
}

rule fim_aspx_upload_beside_itself
{
    meta:
        author = "fim project"
        description = "ASP.NET page stores an uploaded file under the client's file name in its own folder (the folder of Request.PhysicalPath): an uploader that drops pages next to itself, where they run."
        family = "aspx"
        severity = "high"
        looks_for = "Request.Files + new FileInfo(Request.PhysicalPath).DirectoryName / Path.GetDirectoryName(Request.PhysicalPath) + GetFileName(posted.FileName)"
    strings:
        $files = /Request\s{0,3}\.\s{0,3}Files\b/
        $here = /(FileInfo|GetDirectoryName)\s{0,3}\(\s{0,3}Request\s{0,3}\.\s{0,3}PhysicalPath/
        $name = /GetFileName\s{0,3}\(\s{0,3}\w{1,40}\s{0,3}\.\s{0,3}FileName\s{0,3}\)/
    condition:
        fim_aspx_file and filesize < 128KB and $files and $here and $name
}

rule fim_aspx_injected_spam_page
{
    meta:
        author = "fim project"
        description = "ASP/ASPX file that is really an injected spam page: many blocks of outbound links pushed off-screen (top/left -999px), or an image error handler that evaluates a base64 script: SEO spam dropped on a compromised site."
        family = "aspx"
        severity = "medium"
        looks_for = "repeated <div style=\"position:absolute; top:-999px; left:-999px\"> link blocks; onerror=\"eval(atob('...'))\""
    strings:
        $off = /(top|left)\s{0,3}:\s{0,3}-\d{3,5}px\s{0,3};\s{0,3}(top|left)\s{0,3}:\s{0,3}-\d{3,5}px/ nocase
        $link = /<a\s{1,3}href\s{0,3}=\s{0,3}["']?https?:\/\// nocase
        $atob = /\bon(error|load)\s{0,3}=\s{0,3}["']\s{0,3}eval\s{0,3}\(\s{0,3}atob\s{0,3}\(/ nocase
    condition:
        extension matches /^\.(asp|aspx|ashx|asmx|asa|cer)$/ and filesize < 512KB
        and ((#off >= 5 and #link >= 5) or $atob)
}
