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
        any of them
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
        $a = /\b(eval|Execute|ExecuteGlobal)\s{0,5}\(?\s{0,5}[^\n;]{0,80}Request\s{0,5}(\.\s{0,5}(Item|Form|QueryString|Cookies|Params|Headers|ServerVariables|BinaryRead|InputStream))?\s{0,5}[\(\[]/ nocase
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
        $direct = /(Process\s{0,5}\.\s{0,5}Start|Arguments\s{0,5}=|FileName\s{0,5}=|\.(Exec|Run))\s{0,5}\(?[^\n;]{0,120}Request\s{0,5}(\.\s{0,5}(Item|Form|QueryString|Cookies|Params|Headers))?\s{0,5}[\(\[]/ nocase
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
