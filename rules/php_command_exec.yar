/*
 * php_command_exec: operating-system command execution driven by request
 * input (system, exec, passthru, shell_exec, backticks, popen, proc_open,
 * pcntl_exec), reverse shells and disable_functions bypasses.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_php_command_exec_request_input_any
{
    meta:
        author = "fim project"
        description = "Helper: the file reads HTTP request parameters"
        family = "php_command_exec"
        severity = "low"
        looks_for = "$_GET, $_POST, $_REQUEST, $_COOKIE"
    strings:
        $g = /\$_(GET|POST|REQUEST|COOKIE)\b/
    condition:
        $g
}

private rule fim_php_command_exec_not_asset
{
    meta:
        author = "fim project"
        description = "Helper: the file is not JavaScript, a style sheet, JSON, documentation or a translation catalogue, where PHP syntax shows up as quoted examples or keyword lists, nor a PHPUnit test case in a tests folder (attack strings as test data)"
        family = "php_command_exec"
        severity = "low"
        looks_for = "extension not in .js .cjs .mjs .ts .vue .css .json .map .md .rst .po"
    strings:
        // a PHPUnit test case: security products test their filters with attack strings
        $testcase = /class\s{1,5}\w{1,80}Test\s{1,5}extends\s{1,5}\\?[\w\\]{0,80}TestCase\b/
        // a text file holds a PHP payload only when a line starts with the PHP tag (prose quoting PHP does not)
        $tag0 = /<\?(php|=|\s)/ nocase
        $tagline = /\n<\?(php|=|\s)/ nocase
        // a class with its own exec()/system() method (connectors, process wrappers), not the PHP builtin
        $method = /function\s{1,5}(exec|system|passthru|shell_exec|popen)\s{0,5}\(/ nocase
    condition:
        not (extension == ".js" or extension == ".cjs" or extension == ".mjs" or extension == ".jsx"
             or extension == ".ts" or extension == ".tsx" or extension == ".vue" or extension == ".css"
             or extension == ".scss" or extension == ".less" or extension == ".json" or extension == ".map"
             or extension == ".md" or extension == ".markdown" or extension == ".rst" or extension == ".po"
             or extension == ".pot")
        and not ($testcase and filename matches /Test\.php$/ and filepath matches /\/tests?\//i)
        and not (extension == ".txt" and not ($tag0 in (0..16) or $tagline))
        // archives (backups, plugin packages) hold PHP sources as members; they are listed, never run
        and not ((filetype == "ZIP" or filetype == "GZIP") and not extension matches /^\.(php\d?|phtml|pht|inc)$/)
        and not $method
}


rule fim_php_command_exec_request
{
    meta:
        author = "fim project"
        description = "A shell-command function (system, exec, passthru, shell_exec, popen, proc_open, pcntl_exec) is called with HTTP request input in its arguments: the request runs commands on the server."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "system($_GET[...]), shell_exec(... $_POST ...), proc_open($_REQUEST[...] ...)"
    strings:
        $a = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|expect_popen)\s{0,10}\(([^;{}'"]|'[^'\n]{0,80}'|"[^"\n]{0,80}"){0,100}(\$_(GET|POST|REQUEST|COOKIE)\b|\$_SERVER\s{0,5}\[\s{0,5}['"](HTTP_|QUERY_STRING|REQUEST_URI|PATH_INFO)|['"]php:\/\/input|getallheaders|apache_request_headers|HTTP_RAW_POST_DATA|\$HTTP_(GET|POST|COOKIE)_VARS|filter_input|getenv\s{0,5}\(\s{0,5}['"]HTTP_)/ nocase
        // ".passthru($_POST['cmd'])." - a call inside a string concatenation (exec is left out: JavaScript's regex.exec)
        $cat = /\.\s{0,3}(system|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}@?(\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_)/ nocase
    condition:
        (
            (
                $a or $cat
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_backtick_request
{
    meta:
        author = "fim project"
        description = "A PHP backtick (shell execution operator) expression contains request input: the request runs shell commands."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "echo `$_GET[c]`; $o = `{$_POST['x']}`"
    strings:
        $a = /(=|echo|print|return|\(|\.|,)\s{0,10}`[^`\n]{0,100}(\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|getallheaders)[^`\n]{0,100}`/ nocase
        $php = /<\?(php|=|\s)/ nocase
    condition:
        (
            (
                $a and $php
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_variable_in_small_script
{
    meta:
        author = "fim project"
        description = "A small PHP script stores request input in a variable and passes a variable to a shell-command function or backticks: request-controlled command execution split over several statements."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "small file, $c = $_REQUEST[...]; system($c) / `$c`"
    strings:
        $assign = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,10}=[^;]{0,80}(\$_(GET|POST|REQUEST|COOKIE)\b|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|php:\/\/input|getallheaders|apache_request_headers|getenv\s{0,5}\(\s{0,5}['"]HTTP_)/
        $sink = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec)\s{0,10}\(\s{0,10}((('[^'\n]{0,40}'|"[^"\n]{0,40}")\s{0,5}\.\s{0,5})?@?\$[a-zA-Z_\x7f-\xff]|"[^"\n]{0,40}\{?\$[a-zA-Z_\x7f-\xff])/ nocase
        $tick1 = /(=\s?|echo\s|print\s|\(\s?|\.\s?)`\$[a-zA-Z_\x7f-\xff{][^`\n]{0,60}`/
        $php = /<\?(php|=|\s)/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
        $esc = /\bescapeshell(arg|cmd)\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize < 4KB and $php and $assign and ($sink or any of ($tick*)) and not $lic and not $esc
            ) and fim_php_command_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}
rule fim_php_command_exec_variable_in_medium_script
{
    meta:
        author = "fim project"
        description = "A PHP script of 4-6 KB stores request input in a variable and passes a variable to a shell-command function or backticks. High rather than critical: old helper scripts of editors (spell checkers...) that run a fixed program on a temporary file look the same."
        family = "php_command_exec"
        severity = "high"
        looks_for = "small file, $c = $_REQUEST[...]; system($c) / `$c`"
    strings:
        $assign = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,10}=[^;]{0,80}(\$_(GET|POST|REQUEST|COOKIE)\b|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|php:\/\/input|getallheaders|apache_request_headers|getenv\s{0,5}\(\s{0,5}['"]HTTP_)/
        $sink = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec)\s{0,10}\(\s{0,10}((('[^'\n]{0,40}'|"[^"\n]{0,40}")\s{0,5}\.\s{0,5})?@?\$[a-zA-Z_\x7f-\xff]|"[^"\n]{0,40}\{?\$[a-zA-Z_\x7f-\xff])/ nocase
        $tick1 = /(=\s?|echo\s|print\s|\(\s?|\.\s?)`\$[a-zA-Z_\x7f-\xff{][^`\n]{0,60}`/
        $php = /<\?(php|=|\s)/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
        $esc = /\bescapeshell(arg|cmd)\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize >= 4KB and filesize < 6KB and $php and $assign and ($sink or any of ($tick*)) and not $lic and not $esc
            ) and fim_php_command_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_command_exec_cmd_parameter
{
    meta:
        author = "fim project"
        description = "The script reads a request parameter named like a command (cmd, command, exec, execute, shell...) and contains shell-command functions: a command webshell."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "$_POST['cmd'] / $_GET['command'] together with system/exec/passthru/shell_exec/popen/proc_open"
    strings:
        $p = /\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[\s{0,5}['"]?(cmd|command|cmnd|exec|execute|shell|shellcmd|cmdline|run)['"]?\s{0,5}\]/ nocase
        $f = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec)\s{0,10}\(\s{0,10}(@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}[,.)\[]|@?\$_|('[^'\n]{0,40}'|"[^"\n]{0,40}")\s{0,3}\.\s{0,3}\$|"[^"\n]{0,40}\{?\$[a-zA-Z_])/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                $p and $f and not $lic
            ) and fim_php_command_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_command_exec_interactive_shell
{
    meta:
        author = "fim project"
        description = "Web terminal: the script reads request input, changes directory with chdir(), runs shell commands and merges stderr (2>&1) into the output shown to the client."
        family = "php_command_exec"
        severity = "high"
        looks_for = "request input + chdir() + command function + \"2>&1\""
    strings:
        $req = /\$_(GET|POST|REQUEST|COOKIE)\b|php:\/\/input/ nocase
        $chdir = /\bchdir\s{0,5}\(/ nocase
        $f = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open)\s{0,10}\(/ nocase
        $redir = "2>&1"
    condition:
        (
            (
                filesize < 1MB and all of them
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_reverse_shell
{
    meta:
        author = "fim project"
        description = "Reverse/bind shell: a network socket is connected to a shell process (/bin/sh, /bin/bash, cmd.exe) so an attacker gets an interactive shell."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "fsockopen/socket_create/stream_socket_* + /bin/sh + proc_open/exec/popen"
    strings:
        $sock = /\b(fsockopen|pfsockopen|socket_create|stream_socket_client|stream_socket_server|socket_bind)\s{0,5}\(/ nocase
        $sh1 = "/bin/sh" nocase
        $sh2 = "/bin/bash" nocase
        $sh3 = "cmd.exe" nocase
        $f = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open)\s{0,10}\(/ nocase
        $php = /<\?(php|=|\s)/ nocase
    condition:
        (
            (
                filesize < 2MB and $php and $sock and any of ($sh*) and $f
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_ld_preload_bypass
{
    meta:
        author = "fim project"
        description = "disable_functions bypass: the script sets LD_PRELOAD (or uses imap_open -oProxyCommand) so that a library or command runs when mail()/imap_open spawns a process."
        family = "php_command_exec"
        severity = "high"
        looks_for = "putenv(\"LD_PRELOAD=...\"), imap_open(... -oProxyCommand ...)"
    strings:
        $ld = /putenv\s{0,5}\(\s{0,5}['"]LD_PRELOAD/ nocase
        $imap = /imap_open\s{0,5}\([^;]{0,200}-oProxyCommand/ nocase
    condition:
        (
            (
                any of them
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_wrapper_called_with_request
{
    meta:
        author = "fim project"
        description = "A small script defines a helper whose parameter goes straight into a shell-command function (system, exec, passthru, shell_exec, popen, proc_open) and passes request input to a function call: a command webshell built around an ex($cmd) helper."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "function ex($in) { ... system($in) ... } ... ex($_POST['p1'])"
    strings:
        $wrap = /function\s{1,5}[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,40}\s{0,5}\(\s{0,5}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}[^)]{0,40}\)\s{0,5}\{[^}]{0,400}[^\w>:$.\\](system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}@?\$/ nocase
        $call = /(^|[^\w>:$.\\])[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{1,40}\s{0,5}\(\s{0,5}(['"][^'"\n]{0,60}['"]\s{0,3}\.\s{0,3})?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]\s{0,3}(\.|\))/
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
        $esc = /\bescapeshell(arg|cmd)\s{0,5}\(/ nocase
        $call_esc = /(^|[^\w>:$.\\])[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{1,40}\s{0,5}\(\s{0,5}escapeshell(arg|cmd)\s{0,3}\(\s{0,3}\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[/ nocase
    condition:
        (
            (
                filesize < 64KB and $wrap and (($call and not $esc) or $call_esc) and not $lic
            ) and fim_php_command_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_command_exec_fallback_chain
{
    meta:
        author = "fim project"
        description = "The script probes three or more shell-command functions one after the other (function_exists/is_callable('exec'), ('system'), ('passthru'), ('shell_exec'), ('popen')...) to find one that is not disabled: the command helper of webshells. Build tools rarely need more than one."
        family = "php_command_exec"
        severity = "high"
        looks_for = "if (function_exists('exec')) ... elseif (function_exists('shell_exec')) ... elseif (is_callable('system')) ..."
    strings:
        $f1 = /(function_exists|is_callable)\s{0,5}\(\s{0,5}['"]exec['"]/ nocase
        $f2 = /(function_exists|is_callable)\s{0,5}\(\s{0,5}['"]system['"]/ nocase
        $f3 = /(function_exists|is_callable)\s{0,5}\(\s{0,5}['"]passthru['"]/ nocase
        $f4 = /(function_exists|is_callable)\s{0,5}\(\s{0,5}['"]shell_exec['"]/ nocase
        $f5 = /(function_exists|is_callable)\s{0,5}\(\s{0,5}['"]popen['"]/ nocase
        $f6 = /(function_exists|is_callable)\s{0,5}\(\s{0,5}['"]proc_open['"]/ nocase
        $k1 = /case\s{1,3}['"]exec['"]\s{0,3}:/ nocase
        $k2 = /case\s{1,3}['"]system['"]\s{0,3}:/ nocase
        $k3 = /case\s{1,3}['"]passthru['"]\s{0,3}:/ nocase
        $k4 = /case\s{1,3}['"]shell_exec['"]\s{0,3}:/ nocase
        $k5 = /case\s{1,3}['"]popen['"]\s{0,3}:/ nocase
        $k6 = /case\s{1,3}['"]proc_open['"]\s{0,3}:/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                (3 of ($f*) or 3 of ($k*)) and not $lic
            ) and fim_php_command_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_command_exec_com_shell
{
    meta:
        author = "fim project"
        description = "A Windows COM object (WScript.Shell, Shell.Application) is created and its Exec/Run/ShellExecute method runs commands: command execution on Windows hosts that bypasses disabled PHP functions."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "new COM('WScript.Shell') ->exec('cmd.exe /c ' . $_POST[...]) (also with the ProgID split into pieces)"
    strings:
        $com = /new\s{1,5}COM\s{0,5}\(/ nocase
        $wsh = "WScript" nocase
        $app = "Shell.Application" nocase
        $cmd = "cmd" nocase
        $split = /Scr['"]\s{0,3}\.\s{0,3}['"]ip/ nocase
        $users = "Shell.Users" nocase
        $run = /->\s{0,3}(exec|run|ShellExecute)\s{0,5}\(/ nocase
    condition:
        (
            (
                $com and (($run and any of ($wsh, $app, $cmd, $split)) or $users)
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_embedded_backconnect_source
{
    meta:
        author = "fim project"
        description = "A PHP file carries a base64-encoded Perl script or C program (a back-connect or bind-port helper) that it writes to disk and runs: the classic network-shell module of PHP webshells."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "'IyEvdXNyL2Jpbi9wZXJs...' (#!/usr/bin/perl) or 'I2luY2x1ZGUg...' (#include) literal plus fopen/fwrite/file_put_contents"
    strings:
        $perl = /['"](IyEv(dXNyL2Jpbi9wZXJs|dXNyL2Jpbi9lbnYgcGVyb|YmluL3No|YmluL2Jhc2)|dXNlIFNvY2tldD|dXNlIElPOjpTb2NrZXQ)/
        $c = /['"]I2luY2x1ZGUg(PH|Ij)/
        $elf = /['"]f0VMRg[EI]B/
        $pe = /['"]TV(qQ|pQ|oA|qA)AA/
        // base64 of the base64 of an ELF header (encoded twice)
        $elf2 = /['"]ZjBWTVJn/
        $perl_text = /#!\/usr\/bin\/perl[^'"]{0,600}(IO::Socket|SOCK_STREAM|socket\s{0,3}\()/
        $perl_sock = "use Socket;"
        $binsh = "/bin/sh -i"
        $c_text = /#include\s{0,3}<sys\/socket\.h>[^'"]{0,1500}(\/bin\/sh|execl|dup2)/
        $w = /\b(fwrite|fputs|file_put_contents)\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize < 1MB and (any of ($perl, $c, $elf, $elf2, $pe, $perl_text, $c_text) or ($perl_sock and $binsh)) and $w
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_download_and_run
{
    meta:
        author = "fim project"
        description = "A shell command downloads a file (wget, curl, lwp-download, fetch, GET) into a temporary directory and runs it with perl/python/sh or makes it executable: the dropper stage that installs bots and back-connect tools."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "exec('cd /tmp;wget http://.../x.txt;perl x.txt;rm -f x.txt')"
    strings:
        $a = /(system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}['"][^'"\n]{0,80}(wget|curl|lwp-download|fetch|GET)\s[^\n]{0,200}(perl|python|php|sh|bash|chmod\s{1,3}(\+x|7[0-7][0-7]))\s/ nocase
        $tmp = /\/(tmp|var\/tmp|dev\/shm)\b/
        // piped into an interpreter from a plain-http or scheme-less address (installers fetch over https)
        $pipe = /(system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}['"][^'"\n]{0,80}(wget|curl|lwp-download|fetch)\s[^'"\n:]{0,40}(http:\/\/)?[a-z0-9.-]{3,80}\/[^'"\n\s]{0,80}\s{0,3}\|\s{0,3}(perl|python|php|sh|bash)\b/ nocase
    condition:
        (
            (
                ($a and $tmp) or $pipe
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_http_tunnel
{
    meta:
        author = "fim project"
        description = "HTTP tunnel (reGeorg style): the script opens TCP connections to hosts named in the request and relays data through CONNECT/READ/FORWARD/DISCONNECT commands carried in request parameters or X- headers, so an attacker reaches the internal network through the web server."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "'CONNECT' / 'READ' / 'FORWARD' / 'DISCONNECT' commands + fsockopen/stream_socket_client/socket_connect + stream_set_blocking"
    strings:
        $c1 = /['"]CONNECT['"]/
        $c2 = /['"]FORWARD['"]/
        $c3 = /['"]DISCONNECT['"]/
        $c4 = /['"]READ['"]/
        $h = /HTTP_X_(CMD|TARGET|PORT|STATUS|ERROR)|['"]X-(CMD|TARGET|PORT|STATUS|ERROR)/ nocase
        $sock = /\b(fsockopen|pfsockopen|stream_socket_client|socket_connect|socket_create)\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize < 256KB and $sock and ((2 of ($c*) and ($h or $c2)) or ($h and 1 of ($c*)))
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_socket_bound_shell
{
    meta:
        author = "fim project"
        description = "A process is started with its stdin/stdout/stderr bound to variables (a socket) instead of pipes, or a socket function name is hidden in a string and a shell is started: a reverse shell written to dodge simple text searches."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "proc_open('/bin/sh -i', array(0 => $sock, 1 => $sock, 2 => $sock), $p); $f = 'fsock'.'open'; $s = $f($ip, $port)"
    strings:
        $desc = /array\s{0,3}\(\s{0,3}0\s{0,3}=>\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3},\s{0,3}1\s{0,3}=>\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3},\s{0,3}2\s{0,3}=>\s{0,3}\$/ nocase
        $desc2 = /\[\s{0,3}0\s{0,3}=>\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3},\s{0,3}1\s{0,3}=>\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3},\s{0,3}2\s{0,3}=>\s{0,3}\$/ nocase
        $name = /['"](fsockopen|pfsockopen|socket_create|stream_socket_client|socket_connect)['"]/ nocase
        $split = /['"](fsock|pfsock|socket_|stream_socket_)['"]\s{0,3}\.\s{0,3}['"]/ nocase
        $sh = /\/bin\/(ba)?sh|cmd\.exe|\/bin\/zsh/ nocase
        $po = /\bproc_open\s{0,5}\(/ nocase
        $vc = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3},\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}/
    condition:
        (
            (
                filesize < 256KB and $sh and ((($desc or $desc2) and $po) or (($name or $split) and $vc))
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_register_globals_shell
{
    meta:
        author = "fim project"
        description = "Old-style command shell that relies on register_globals or the long request arrays: a tiny script that never assigns the variable it passes to a shell function (it arrives from the query string), or reads $HTTP_GET_VARS/$HTTP_POST_VARS/import_request_variables and runs commands."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "<?php system($cmd); ?> with no assignment at all; import_request_variables('gp') + passthru($c)"
    strings:
        $sink = /(^|[^\w>:$.\\])(system|passthru|shell_exec|exec|popen|proc_open)\s{0,5}\(\s{0,5}@?(\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}|"\{?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30})/ nocase
        $tick = /(=|echo|print|\()\s{0,3}`\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}`/
        // any assignment: a literal "=" before a value ("==" comparisons count too, which only makes the rule stricter)
        $as0 = "=$"
        $as1 = "= $"
        $as2 = "='"
        $as3 = "= '"
        $as4 = /[\w\])]="/
        $as5 = /[\w\])] = "/
        $as6 = "=@"
        $as7 = "= @"
        $as8 = "=array"
        $as9 = "= array"
        $as10 = ".="
        $fn = /\bfunction\b/ nocase
        $sg = /\$_(GET|POST|REQUEST|COOKIE|SERVER|FILES|ENV)\b/
        $old = /\$HTTP_(GET|POST|COOKIE)_VARS|import_request_variables\s{0,5}\(/ nocase
        $php = /<\?(php|=|\s)/ nocase
    condition:
        (
            (
                $php and ($sink or $tick) and (($old) or (filesize < 1KB and not any of ($as*) and not $fn and not $sg))
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_decoded_command
{
    meta:
        author = "fim project"
        description = "A shell-command function runs a command that is decoded at run time (base64_decode, str_rot13, hex2bin, pack, gzinflate): the command line is hidden from the reader."
        family = "php_command_exec"
        severity = "high"
        looks_for = "system(base64_decode('...')); shell_exec(str_rot13('...'))"
    strings:
        $a = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}@?(base64_decode|str_rot13|strrev|hex2bin|pack|gzinflate|gzuncompress|convert_uudecode)\s{0,5}\(/ nocase
    condition:
        (
            (
                $a
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_request_values_by_position
{
    meta:
        author = "fim project"
        description = "Request data is turned into a positional list (array_values($_SERVER), array_values($_POST), getallheaders() values) and a shell-command or code function runs with it: the parameter name never appears, only its position."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "$a = array_values($_SERVER); system($a[6]);"
    strings:
        $vals = /array_values\s{0,5}\(\s{0,5}(\$_(SERVER|GET|POST|COOKIE|REQUEST)\b|getallheaders\s{0,3}\(|apache_request_headers\s{0,3}\()/ nocase
        $sink = /(^|[^\w>:$.\\])(system|passthru|shell_exec|exec|popen|proc_open|eval|assert)\s{0,5}\(\s{0,5}[^)]{0,40}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[\s{0,3}\d{1,3}\s{0,3}\]/ nocase
    condition:
        (
            (
                filesize < 64KB and $vals and $sink
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_udp_flooder
{
    meta:
        author = "fim project"
        description = "Flooding tool: the script opens UDP (or raw TCP) sockets to a host taken from the request and writes to them in a loop until a time limit: the site is used to attack others (denial of service)."
        family = "php_command_exec"
        severity = "high"
        looks_for = "fsockopen('udp://' . $_GET['host'], $port) in a loop with fwrite and a time limit from the request"
    strings:
        $udp = /fsockopen\s{0,5}\(\s{0,5}['"](udp|tcp):\/\/['"]\s{0,3}\.\s{0,3}\$/ nocase
        $loop = /\b(while|for)\s{0,3}\(/ nocase
        $w = /\bfwrite\s{0,5}\(/ nocase
        $t = /\b(time|microtime)\s{0,3}\(/ nocase
    condition:
        (
            (
                filesize < 64KB and $udp and $loop and $w and $t and fim_php_command_exec_request_input_any
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_launch_dropped_binary
{
    meta:
        author = "fim project"
        description = "The script makes a file executable and starts it from the current or a temporary directory in the background (./name ... &, nohup): a dropped binary (miner, bot, back-connect) is launched from the web root."
        family = "php_command_exec"
        severity = "high"
        looks_for = "chmod('apache2', 0744); exec('./apache2 > /dev/null &');"
    strings:
        $chmod = /\bchmod\s{0,5}\([^;]{1,120},\s{0,5}0?7[0-7][0-7]\s{0,3}\)/ nocase
        $run = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}['"](nohup\s{1,3})?(\.\/|\/tmp\/|\/dev\/shm\/|\/var\/tmp\/)[\w.-]{1,40}[^'"\n]{0,80}&\s{0,3}['"]/ nocase
        $gcc = /(system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}['"]\s{0,3}(cc|gcc)\s[^'"\n]{1,120}-o\s{1,3}\/?(tmp|var\/tmp|dev\/shm)?\/?[\w.-]{1,40}/ nocase
        $bg = /(system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}['"]\s{0,3}nohup\s/ nocase
    condition:
        (
            (
                filesize < 256KB and (($chmod and $run) or ($gcc and ($bg or $run)))
            ) and fim_php_command_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_command_exec_decoded_network_shell_script
{
    meta:
        author = "fim project"
        description = "A layer decoded from the file (base64, gzip...) is a Perl or Python script that opens a socket and starts a shell: the back-connect or bind-shell module a PHP webshell writes to disk and runs."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "decoded layer: #!/usr/bin/perl ... use Socket ... /bin/sh; import socket ... os.popen / pty.spawn"
    strings:
        $perl = /#!\s{0,3}\/usr\/bin\/(env\s{1,3})?perl|\buse\s{1,3}(IO::)?Socket/
        $py = /#!\s{0,3}\/usr\/bin\/(env\s{1,3})?python|\bimport\s{1,3}[\w, ]{0,40}\bsocket\b/
        $sock = /\b(socket|IO::Socket::INET|socket\.socket|sockaddr_in)\s{0,3}\(|IO::Socket::INET->new/
        $sh = /\/bin\/(ba)?sh|cmd\.exe|pty\.spawn|os\.(popen|system|dup2)|subprocess/
    condition:
        (
            layer >= 1 and chain != "strip-comments" and ($perl or $py) and $sock and $sh
        ) and fim_php_command_exec_not_asset
}

rule fim_php_command_exec_decoded_perl_program
{
    meta:
        author = "fim project"
        description = "A layer decoded from the file is a Perl program that talks SMTP or IRC over its own sockets or evaluates a packed body (spam bot, IRC bot): a PHP dropper carrying a bot for the server."
        family = "php_command_exec"
        severity = "high"
        looks_for = "decoded layer: #!/usr/bin/perl + use IO::Socket + EHLO/RCPT TO/PRIVMSG, or unpack('u*', ...) + eval"
    strings:
        $perl = /#!\s{0,3}\/usr\/bin\/(env\s{1,3})?perl/
        $smtp = /\b(EHLO|HELO|RCPT TO|MAIL FROM|PRIVMSG|JOIN #)/
        $io = /use\s{1,3}IO::Socket/
        $packed = /unpack\s{0,3}\(\s{0,3}['"]u\*?['"][^;]{0,80};[^\n]{0,300}\beval\s{0,3}\(/
    condition:
        (
            layer >= 1 and chain != "strip-comments" and $perl and (($io and $smtp) or $packed)
        ) and fim_php_command_exec_not_asset
}

rule fim_php_command_exec_log_wiper
{
    meta:
        author = "fim project"
        description = "Anti-forensics: shell commands delete or truncate login records and shell histories (.bash_history, /var/log/lastlog, wtmp/utmp, secure, auth.log) to hide an intrusion."
        family = "php_command_exec"
        severity = "high"
        looks_for = "system('find / -name .bash_history -exec rm -rf {} \\;'); paths /var/log/lastlog, /var/run/utmp"
    strings:
        $hist = ".bash_history"
        $find = /find\s{1,3}\/\s/
        $logs = /\/var\/(log\/(lastlog|wtmp|btmp|secure|messages|auth\.log)|run\/utmp)/
        $del = /rm\s{1,3}-r?f|\bunlink\s{0,3}\(|shred\s|>\s{0,3}\/var\/log/
        $sink = /(^|[^\w>:$.\\])(system|passthru|shell_exec|exec|popen|proc_open|unlink)\s{0,5}\(/ nocase
    condition:
        (
            filesize < 64KB and $hist and $del and $sink and ($logs or $find)
            and not has_code_view
        ) and fim_php_command_exec_not_asset
}

rule fim_php_command_exec_comspec_shell
{
    meta:
        author = "fim project"
        description = "The Windows command interpreter named by COMSPEC is started with pipes (proc_open/popen) and fed commands: an interactive cmd.exe shell on a Windows host."
        family = "php_command_exec"
        severity = "high"
        looks_for = "proc_open($_SERVER['COMSPEC'], $spec, $pipes); fwrite($pipes[0], $command . \"\\r\\n\");"
    strings:
        $a = /\b(proc_open|popen)\s{0,5}\(\s{0,5}(\$_SERVER\s{0,3}\[\s{0,3}['"]COMSPEC['"]|getenv\s{0,3}\(\s{0,3}['"]COMSPEC['"])/ nocase
    condition:
        (
            $a and not has_code_view
        ) and fim_php_command_exec_not_asset
}

rule fim_php_command_exec_piped_to_shell_with_request
{
    meta:
        author = "fim project"
        description = "A command line built from a variable is piped into /bin/sh (echo ... | /bin/sh) in a script that reads request input: whatever the request names is run by the shell."
        family = "php_command_exec"
        severity = "critical"
        looks_for = "$f = $_POST['file']; exec('echo \"./' . basename($f) . '\" | /bin/sh', $out);"
    strings:
        $a = /(^|[^\w>:$.\\])(system|exec|passthru|shell_exec|popen|proc_open)\s{0,5}\(\s{0,5}['"][^'"\n]{0,60}['"]\s{0,3}\.[^;\n]{0,100}\|\s{0,3}\/bin\/(ba)?sh/ nocase
        $req = /\$_(GET|POST|REQUEST|COOKIE)\s{0,3}\[/
    condition:
        (
            filesize < 32KB and $a and $req and not has_code_view
        ) and fim_php_command_exec_not_asset
}
