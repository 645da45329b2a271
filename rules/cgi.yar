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
        // cgi-lib.pl style: &ReadParse fills %in
        $in4 = /&ReadParse\b|\$in\s{0,3}\{\s{0,3}['"]?\w{1,20}['"]?\s{0,3}\}/
        $x1 = /[;{}\s(=!](system|exec)\s{0,3}\(\s{0,3}[\$'"@]/
        $x1b = /[;{}\s(=!](system|exec)\s{1,3}[\$'"@]/
        $x2 = /\bqx\s{0,3}[\(\{\[\/|!]/
        $x3 = /`\$[a-zA-Z_{][^`\n]{0,80}`/
        $x4 = /\bopen\s{0,3}\(?\s{0,3}[A-Z$][\w]{0,20}\s{0,3},\s{0,3}['"][^'"\n]{0,60}\|['"]/
        $x5 = /\bopen\s{0,3}\(?\s{0,3}[A-Z$][\w]{0,20}\s{0,3},\s{0,3}['"]-\|['"]/
        $direct = /\b(system|exec|qx)\s{0,3}[\(\{]?[^;\n]{0,80}(param\s{0,3}\(|\$ENV\s{0,3}\{\s{0,3}['"]?QUERY_STRING)/
        $evalreq = /\beval\s{0,3}\(?\s{0,3}(\$cgi->|\$q->|CGI::)?(param\s{0,3}\(|\$in\s{0,3}\{|\$ENV\s{0,3}\{\s{0,3}['"]?(QUERY_STRING|HTTP_))/
    condition:
        filesize < 256KB and ($perl or $in2) and any of ($in*) and ($direct or $evalreq or (any of ($x*) and filesize < 32KB))
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
        // "from subprocess import *" style calls
        $x5 = /\b(check_output|Popen|getoutput|getstatusoutput|call|run)\s{0,3}\([^\n]{0,100}shell\s{0,3}=\s{0,3}True/
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
        // command substitution of the query string: $(echo "$QUERY_STRING" | ...) or `...`
        $b = /(\$\(|`)\s{0,3}(echo|printf)?[^\n`)]{0,40}\$\{?QUERY_STRING[^\n]{0,80}\|\s{0,3}(sh|bash)\b/
        // or the decoded query kept in a variable that is then run as a command line
        $q = /\$\{?QUERY_STRING/
        $ct = /Content-?[Tt]ype:/
        $run1 = /\beval[ \t]{1,3}["']?\$\{?[A-Za-z_]\w{0,20}/
        $run2 = /\n[ \t]{0,8}\$\{?[A-Za-z_]\w{0,20}\}?[ \t]{1,3}2>&1/
    condition:
        $sh and ($a or $b or ($q and $ct and any of ($run*) and filesize < 16KB))
}

rule fim_cgi_perl_socket_shell
{
    meta:
        author = "fim project"
        description = "Perl script connects or listens on a socket and duplicates the socket onto STDIN/STDOUT before starting a shell: a back-connect or bind-port shell."
        family = "cgi"
        severity = "critical"
        looks_for = "socket(...)/IO::Socket + connect or bind/listen/accept + open(STDIN, \"<&SOCK\") + exec/system /bin/sh"
    strings:
        $sock = /\bsocket\s{0,3}\(|IO::Socket/
        $conn = /\b(connect|accept)\s{0,3}\(/
        // STDIN re-opened as a duplicate of another handle: daemons re-open it from /dev/null
        $dup = /open\s{0,3}\(?\s{0,3}STDIN\s{0,3},\s{0,3}["'][<>]&/
        $sh = /\/bin\/(ba|z|k|c|tc)?sh\b|cmd\.exe/
    condition:
        filesize < 64KB and $sock and $conn and $dup and $sh
}

rule fim_cgi_python_socket_shell
{
    meta:
        author = "fim project"
        description = "Python script connects a socket and duplicates it onto the standard streams (os.dup2) before spawning a shell: a reverse shell."
        family = "cgi"
        severity = "critical"
        looks_for = "socket.socket + connect + os.dup2(s.fileno(), 0/1/2) + pty.spawn/subprocess/os.system(\"/bin/sh\")"
    strings:
        $sock = /socket\s{0,3}\.\s{0,3}socket\s{0,3}\(/
        $conn = /\.\s{0,3}(connect|accept)\s{0,3}\(/
        $dup = /os\s{0,3}\.\s{0,3}dup2\s{0,3}\(/
        $sh = /\/bin\/(ba|z)?sh\b|pty\s{0,3}\.\s{0,3}spawn/
    condition:
        filesize < 64KB and $sock and $conn and #dup >= 2 and $sh
}

rule fim_cgi_shell_reverse_shell
{
    meta:
        author = "fim project"
        description = "Shell script or text file holding a reverse-shell one-liner: an interactive shell bound to /dev/tcp, or netcat/socat running a shell for a remote host."
        family = "cgi"
        severity = "critical"
        looks_for = "bash -i >& /dev/tcp/host/port 0>&1, nc -e /bin/sh host port, mkfifo + nc + sh -i, socat exec:sh"
    strings:
        $devtcp = /(ba)?sh\s{1,3}-i\s{0,3}[>&]{1,2}\s{0,3}\/dev\/(tcp|udp)\/|\/dev\/tcp\/[^\s\/]{1,60}\/\d{1,5}\s{0,3}0\s{0,3}>\s{0,3}&\s{0,3}1/
        $nc = /\b(nc|ncat|netcat)\s{1,3}(-[a-z]{1,3}\s{1,3}){0,3}-e\s{1,3}\/bin\/(ba)?sh/
        $fifo = /mkfifo\s{1,3}\S{1,40}[^\n]{0,80}\b(nc|ncat|netcat)\b[^\n]{0,80}\bsh\s{1,3}-i/
        $socat = /socat\s[^\n]{0,80}exec:['"]?(\/bin\/)?(ba)?sh/ nocase
    condition:
        filesize < 64KB and any of them
}

rule fim_cgi_perl_uuencoded_payload
{
    meta:
        author = "fim project"
        description = "Perl script that reads a uuencoded payload from its own __DATA__ section (or a here-document) and decodes it with unpack('u') at run time: a packed dropper or bot loader."
        family = "cgi"
        severity = "high"
        looks_for = "$x .= $_ while(<DATA>); $x = unpack('u*', $x); eval/print ... __DATA__ followed by uuencoded lines"
    strings:
        $unpack = /unpack\s{0,3}\(\s{0,3}\\?['"]u\*?\\?['"]/
        $data = /<DATA>|__DATA__|__END__/
        $uu = /\nM[\x20-\x60]{60}\r?\nM[\x20-\x60]{60}\r?\n/
    condition:
        filesize < 2MB and $unpack and $data and $uu
}

rule fim_cgi_perl_disguised_bot
{
    meta:
        author = "fim project"
        description = "Perl network program that renames its own process ($0) to a name picked at random from a list of harmless-looking names, and forks into the background: an IRC/spam/DDoS bot hiding in the process list."
        family = "cgi"
        severity = "high"
        looks_for = "my @names = (\"exim\", \"bash\", ...); $0 = $names[int rand @names]; IO::Socket + fork"
    strings:
        $sock = /IO::Socket|\bsocket\s{0,3}\(/
        $name = /\$0\s{0,3}=\s{0,3}\$\w{1,30}(\s{0,3}\[[^\]\n]{1,40}\])?\s{0,3};/
        // $0 = "$fake" . "\0" x 16: padding the new name with NULs hides the real arguments
        $pad = /\$0\s{0,3}=\s{0,3}["']?\$\w{1,30}["']?\s{0,3}\.\s{0,3}["']\\0["']\s{0,3}x\s{0,3}\d/
        $pick = /\[\s{0,3}int\s{0,3}\(?\s{0,3}rand\s{0,3}\(?\s{0,3}(scalar\s{0,3})?\(?\s{0,3}@/
        $fork = /\bfork\b/
    condition:
        filesize < 512KB and $sock and (($name and $pick) or $pad) and $fork
}

rule fim_cgi_shell_download_run_delete
{
    meta:
        author = "fim project"
        description = "Short shell script (often a cron job) that downloads a program from a fixed URL, makes it executable or feeds it to an interpreter, runs it and deletes it: a dropper that leaves nothing on disk."
        family = "cgi"
        severity = "high"
        looks_for = "wget/curl http://... + chmod +x / perl|sh|python <file> + rm -rf <file>"
    strings:
        $get = /\b(wget|curl)\s[^\n]{0,80}https?:\/\//
        $run = /(;|&&|\n)\s{0,3}(perl|python[23]?|sh|bash|\.\/)\s{0,3}[\w.\/-]{1,60}\s{0,3}(;|&&|\n|$)/
        $chmod = /chmod\s{1,3}(\+x|[0-7]?7[0-7]{2})\s/
        $rm = /\brm\s{1,3}-(rf|fr|f)\s/
        // installers talk to the person running them; cron droppers say nothing
        $talk1 = /\becho\s/
        $talk2 = "printf"
        $talk3 = "set -e"
        $talk4 = /\n# {0,2}[A-Za-z]{2}/
    condition:
        filesize < 2KB and $get and $run and $chmod and $rm and not any of ($talk*)
}

rule fim_cgi_irc_bot
{
    meta:
        author = "fim project"
        description = "Perl or Python IRC client that takes commands from channel messages and runs them (system/exec/backticks/os.popen/subprocess): an IRC-controlled bot or shell."
        family = "cgi"
        severity = "high"
        looks_for = "socket/IO::Socket + NICK/JOIN/PRIVMSG + system/exec/qx/backticks/os.popen/subprocess"
    strings:
        $sock = /IO::Socket|\bsocket\s{0,3}\(|socket\s{0,3}\.\s{0,3}socket\s{0,3}\(/
        // no word boundary: the commands often follow a literal "\r\n" in the source
        $nick = /NICK\s{1,3}[\w$]/
        $priv = "PRIVMSG"
        $join = /JOIN\s{1,3}[#&$]/
        $x1 = /\b(system|exec)\s{0,3}\(?\s{0,3}[\$'"@]/
        $x2 = /`\$[a-zA-Z_{0-9][^`\n]{0,80}`|\bqx\s{0,3}[\(\{\[\/|!]/
        $x3 = /os\s{0,3}\.\s{0,3}(system|popen)\s{0,3}\(|subprocess\s{0,3}\.\s{0,3}(Popen|call|run|check_output|getoutput)\s{0,3}\(/
    condition:
        filesize < 512KB and $sock and $nick and $priv and $join and any of ($x*)
}

rule fim_cgi_symlink_config_grabber
{
    meta:
        author = "fim project"
        description = "Script that reads the user list from /etc/passwd and symlinks other accounts' home folders or application configuration files (wp-config.php, configuration.php) into a web folder: a shared-hosting credential grabber."
        family = "cgi"
        severity = "high"
        looks_for = "/etc/passwd + symlink(\"/home/$user/public_html/wp-config.php\", ...) / ln -s"
    strings:
        $passwd = "/etc/passwd"
        // the link points into another account's home at an application's secrets file; a
        // panel's config templates or an admin script linking public_git folders do not
        $link = /(symlink\s{0,3}\(\s{0,3}|ln\s{1,3}-s\s{1,3})f?["']?\/home\d?\/(\$\{?\w{1,20}\}?|\{\w{1,20}\})\/[^"'\s]{0,60}(wp-config\.php|configuration\.php|config\.inc\.php|config\.php|settings\.php|\.my\.cnf|\.accesshash)/
    condition:
        filesize < 256KB and $passwd and $link and not uint32(0) == 0x68703f3c
}

rule fim_cgi_miner_dropper
{
    meta:
        author = "fim project"
        description = "Shell script that fetches or starts a cryptocurrency miner (stratum pool URL, xmrig-style options) on the web server."
        family = "cgi"
        severity = "high"
        looks_for = "stratum+tcp:// pool + wget/curl/nohup, or a miner binary started with --donate-level / -o pool -u wallet"
    strings:
        $pool = /stratum\+(tcp|ssl|tls):\/\//
        $opts = /--donate-level|--cpu-max-threads-hint|\s-o\s{1,3}[a-z0-9.-]{4,60}:\d{2,5}\s{1,3}-u\s/
        $run = /\b(wget|curl|nohup|chmod)\b/
    condition:
        filesize < 64KB and ($pool or $opts) and $run and not uint32(0) == 0x68703f3c
}

rule fim_cgi_python_http_backdoor
{
    meta:
        author = "fim project"
        description = "Small Python HTTP server whose request handler runs shell commands taken from the request path, query or body: a stand-alone backdoor listening on a port."
        family = "cgi"
        severity = "high"
        looks_for = "BaseHTTPRequestHandler + do_GET/do_POST + self.path/parse_qs/rfile.read + os.popen/os.system/subprocess"
    strings:
        $h = "BaseHTTPRequestHandler"
        $in = /self\s{0,3}\.\s{0,3}(path|rfile\s{0,3}\.\s{0,3}read|headers)|parse_qs\s{0,3}\(/
        $x1 = /os\s{0,3}\.\s{0,3}(system|popen)\s{0,3}\(/
        $x2 = /subprocess\s{0,3}\.\s{0,3}(Popen|call|run|check_output|getoutput)\s{0,3}\(|\b(check_output|getoutput|Popen)\s{0,3}\(/
    condition:
        filesize < 32KB and $h and $in and any of ($x*)
}
