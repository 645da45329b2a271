/*
 * cgi: Perl and Python CGI webshells - shell commands (system, exec, qx,
 * backticks, open with a pipe, os.popen, os.system, subprocess) run with
 * CGI request input (CGI param(), QUERY_STRING, STDIN body,
 * cgi.FieldStorage).
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

rule fim_cgi_perl_command_exec_request
{
    meta:
        author = "fim project"
        description = "Perl CGI script runs shell commands (system/exec/qx/backticks/piped open) with request input (CGI param(), QUERY_STRING, POST body): a Perl command webshell."
        family = "cgi"
        severity = "critical"
        looks_for = "use CGI / $ENV{QUERY_STRING} + system/exec/qx/`...`/open(..|) with request data"
    strings:
        $perl = /#!\s{0,3}\/[^\n]{0,40}perl|use\s{1,3}CGI\b/
        $in1 = /\bparam\s{0,3}\(\s{0,3}['"]?\w{0,20}['"]?\s{0,3}\)/
        $in2 = /\$ENV\s{0,3}\{\s{0,3}['"]?(QUERY_STRING|HTTP_[A-Z_]{2,30}|CONTENT_LENGTH|REQUEST_URI)['"]?\s{0,3}\}/
        $in3 = /read\s{0,3}\(\s{0,3}STDIN/
        $x1 = /[;{}\s(=!](system|exec)\s{0,3}\(\s{0,3}[\$'"@]/
        $x1b = /[;{}\s(=!](system|exec)\s{1,3}[\$'"@]/
        $x2 = /\bqx\s{0,3}[\(\{\[\/|!]/
        $x3 = /`\$[a-zA-Z_{][^`\n]{0,80}`/
        $x4 = /\bopen\s{0,3}\(?\s{0,3}[A-Z$][\w]{0,20}\s{0,3},\s{0,3}['"][^'"\n]{0,60}\|['"]/
        $x5 = /\bopen\s{0,3}\(?\s{0,3}[A-Z$][\w]{0,20}\s{0,3},\s{0,3}['"]-\|['"]/
        $direct = /\b(system|exec|qx)\s{0,3}[\(\{]?[^;\n]{0,80}(param\s{0,3}\(|\$ENV\s{0,3}\{\s{0,3}['"]?QUERY_STRING)/
    condition:
        filesize < 256KB and ($perl or $in2) and any of ($in*) and ($direct or (any of ($x*) and filesize < 32KB))
}

rule fim_cgi_python_command_exec_request
{
    meta:
        author = "fim project"
        description = "Python CGI script runs shell commands (os.system, os.popen, subprocess, commands.getoutput, pty.spawn) with request input (cgi.FieldStorage, QUERY_STRING): a Python command webshell."
        family = "cgi"
        severity = "critical"
        looks_for = "cgi.FieldStorage / os.environ['QUERY_STRING'] + os.popen/os.system/subprocess.*"
    strings:
        $in1 = /cgi\s{0,3}\.\s{0,3}FieldStorage/
        $in2 = /os\s{0,3}\.\s{0,3}environ\s{0,3}(\[|\.get\s{0,3}\()\s{0,3}['"](QUERY_STRING|HTTP_[A-Z_]{2,30}|REQUEST_URI)/
        $in3 = /sys\s{0,3}\.\s{0,3}stdin\s{0,3}\.\s{0,3}read/
        $x1 = /os\s{0,3}\.\s{0,3}(system|popen|popen[234]|exec[lv]p?e?|spawn[lv]p?e?)\s{0,3}\(/
        $x2 = /subprocess\s{0,3}\.\s{0,3}(Popen|call|run|check_output|check_call|getoutput|getstatusoutput)\s{0,3}\(/
        $x3 = /commands\s{0,3}\.\s{0,3}getoutput\s{0,3}\(/
        $x4 = /pty\s{0,3}\.\s{0,3}spawn\s{0,3}\(/
        $cgi = /Content-[Tt]ype:\s{0,3}text\/(html|plain)/
    condition:
        filesize < 128KB and any of ($in*) and any of ($x*) and ($cgi or $in1 or $in2)
}

rule fim_cgi_shell_script_command_exec
{
    meta:
        author = "fim project"
        description = "Shell CGI script evaluates the query string (eval/sh -c on $QUERY_STRING): a shell-script command webshell."
        family = "cgi"
        severity = "critical"
        looks_for = "#!/bin/sh CGI with eval/sh -c of $QUERY_STRING"
    strings:
        $sh = /^#!\s{0,3}\/(usr\/)?bin\/(env\s{1,3})?(ba|da|k|z)?sh/
        $a = /\b(eval|sh\s{1,3}-c|bash\s{1,3}-c|exec)\s{1,5}[^\n]{0,60}\$\{?QUERY_STRING/
    condition:
        $sh and $a
}
