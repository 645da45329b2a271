/*
 * php_filemanager: web file managers and "shell UIs" - the big all-in-one
 * webshells that list directories, edit/upload/chmod/delete files, run
 * commands, show server information, open SQL consoles and remove
 * themselves. No single indicator is conclusive, so the rules count
 * indicators from several groups.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_php_filemanager_indicators
{
    meta:
        author = "fim project"
        description = "Helper: indicator strings of file-manager/shell UIs"
        family = "php_filemanager"
        severity = "low"
        looks_for = "system info, file operations, command functions, SQL, self-removal"
    strings:
        // UI
        $u1 = "<form" nocase
        $u2 = "<textarea" nocase
        $u3 = "multipart/form-data" nocase
        // request input
        $r1 = /\$_(GET|POST|REQUEST|COOKIE)\b/
    condition:
        $r1 and any of ($u*)
        and not (extension == ".js" or extension == ".mjs" or extension == ".css" or extension == ".json" or extension == ".md" or extension == ".map" or extension == ".rst")
}

rule fim_php_filemanager_shell_ui
{
    meta:
        author = "fim project"
        description = "All-in-one webshell UI: a request-driven HTML page that combines server reconnaissance (php_uname, posix_getpwuid, safe_mode/disable_functions checks, disk space...), file operations (listing, chmod, upload, delete) and shell-command execution."
        family = "php_filemanager"
        severity = "high"
        looks_for = "3+ recon indicators, 2+ file operations, a command function, a form and request input"
    strings:
        $i1 = "php_uname" nocase
        $i2 = "posix_getpwuid" nocase
        $i3 = "posix_getgrgid" nocase
        $i4 = /\bgetmyuid\s{0,3}\(/ nocase
        $i5 = /\bget_current_user\s{0,3}\(/ nocase
        $i6 = "disk_free_space" nocase
        $i7 = "disk_total_space" nocase
        $i8 = "safe_mode" nocase
        $i9 = "disable_functions" nocase
        $i10 = "open_basedir" nocase
        $i11 = "/etc/passwd"
        $i12 = "uname -a"
        $i13 = /posix_gete?uid\s{0,3}\(/ nocase
        $f1 = /\bfileperms\s{0,3}\(/ nocase
        $f2 = /\bchmod\s{0,3}\(/ nocase
        $f3 = /\b(scandir|opendir|readdir|glob)\s{0,3}\(/ nocase
        $f4 = /\bmove_uploaded_file\s{0,3}\(/ nocase
        $f5 = /\bunlink\s{0,3}\(/ nocase
        $f6 = /\brmdir\s{0,3}\(/ nocase
        $f7 = /\bmkdir\s{0,3}\(/ nocase
        $f8 = /\brename\s{0,3}\(/ nocase
        $f9 = /\btouch\s{0,3}\(/ nocase
        $f10 = /\bis_writable\s{0,3}\(/ nocase
        $f11 = /\bfile_put_contents\s{0,3}\(/ nocase
        $f12 = /\b(highlight_file|show_source|readfile)\s{0,3}\(/ nocase
        $x1 = /(^|[^\w>:$.\\])(system|passthru|shell_exec|popen|proc_open|exec|pcntl_exec)\s{0,3}\(/ nocase
        $x2 = /= `[^`\n]{1,100}`/
        $x3 = /=`[^`\n]{1,100}`/
        $x4 = /echo ?`[^`\n]{1,100}`/
        $x5 = /\(`[^`\n]{1,100}`/
    condition:
        (
            fim_php_filemanager_indicators and 3 of ($i*) and 2 of ($f*) and any of ($x*)
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_self_deleting_tool
{
    meta:
        author = "fim project"
        description = "A request-driven script that can delete itself (unlink(__FILE__)) and also manipulates files or runs commands: attackers' tools remove themselves to hide traces."
        family = "php_filemanager"
        severity = "high"
        looks_for = "unlink(__FILE__) + request input + command functions or several file operations"
    strings:
        $self = /unlink\s{0,3}\([^;{}]{0,80}(__FILE__|\$_SERVER\s{0,3}\[\s{0,3}['"](SCRIPT_FILENAME|PHP_SELF)['"]\s{0,3}\])/ nocase
        $r = /\$_(GET|POST|REQUEST|COOKIE)\b/
        $x = /(^|[^\w>:$.\\])(system|passthru|shell_exec|popen|proc_open|exec|eval|assert)\s{0,3}\(/ nocase
        $f1 = /\bchmod\s{0,3}\(/ nocase
        $f2 = /\bmove_uploaded_file\s{0,3}\(/ nocase
        $f3 = /\b(scandir|opendir|readdir)\s{0,3}\(/ nocase
        $f4 = /\bfile_put_contents\s{0,3}\(/ nocase
        $f5 = /\brename\s{0,3}\(/ nocase
    condition:
        (
            $self and $r and ($x or 2 of ($f*))
            and not (extension == ".js" or extension == ".mjs" or extension == ".css" or extension == ".json" or extension == ".md" or extension == ".map" or extension == ".rst")
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_recon_and_exec
{
    meta:
        author = "fim project"
        description = "A request-driven page (with a form) that gathers server/account information (uname, uid, disabled functions, safe_mode, /etc/passwd) and runs shell commands: post-exploitation toolkit."
        family = "php_filemanager"
        severity = "high"
        looks_for = "4+ recon indicators + 2 different command functions + request input"
    strings:
        $i1 = "php_uname" nocase
        $i2 = "posix_getpwuid" nocase
        $i3 = "posix_getgrgid" nocase
        $i4 = /\bgetmyuid\s{0,3}\(/ nocase
        $i5 = /\bget_current_user\s{0,3}\(/ nocase
        $i6 = "disk_free_space" nocase
        $i7 = "safe_mode" nocase
        $i8 = "disable_functions" nocase
        $i9 = "open_basedir" nocase
        $i10 = "/etc/passwd"
        $i11 = "uname -a"
        $x1 = /(^|[^\w>:$.\\])system\s{0,3}\(/ nocase
        $x2 = /(^|[^\w>:$.\\])passthru\s{0,3}\(/ nocase
        $x3 = /(^|[^\w>:$.\\])shell_exec\s{0,3}\(/ nocase
        $x4 = /(^|[^\w>:$.\\])popen\s{0,3}\(/ nocase
        $x5 = /(^|[^\w>:$.\\])proc_open\s{0,3}\(/ nocase
        $x6 = /(^|[^\w>:$.\\])exec\s{0,3}\(/ nocase
        $r = /\$_(GET|POST|REQUEST|COOKIE)\b/
    condition:
        (
            $r and 4 of ($i*) and 2 of ($x*) and fim_php_filemanager_indicators
            and not (extension == ".js" or extension == ".mjs" or extension == ".css" or extension == ".json" or extension == ".md" or extension == ".map" or extension == ".rst")
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_file_browser
{
    meta:
        author = "fim project"
        description = "Web file manager: a request-driven HTML page that browses directories and can upload/edit, delete and rename or chmod files, and shows server details. Legitimate file managers exist, but one appearing unexpectedly in a site is usually an attacker's tool."
        family = "php_filemanager"
        severity = "high"
        looks_for = "directory listing + upload or edit + delete + rename/chmod/permissions + server info + form + file operations on request-supplied paths"
    strings:
        $list = /\b(scandir|opendir|readdir|glob)\s{0,3}\(/ nocase
        $up = /\b(move_uploaded_file|copy)\s{0,3}\(\s{0,3}\$_FILES/ nocase
        $edit = /\b(file_put_contents|fwrite|fputs)\s{0,3}\(/ nocase
        $del = /\b(unlink|rmdir)\s{0,3}\(/ nocase
        $m1 = /\bchmod\s{0,3}\(/ nocase
        $m2 = /\bfileperms\s{0,3}\(/ nocase
        $m3 = /\brename\s{0,3}\(/ nocase
        $i1 = "php_uname" nocase
        $i2 = "posix_getpwuid" nocase
        $i3 = "disk_free_space" nocase
        $i4 = "safe_mode" nocase
        $i5 = "disable_functions" nocase
        $i6 = /\bget_current_user\s{0,3}\(/ nocase
        $i7 = /\bgetmyuid\s{0,3}\(/ nocase
        $i8 = "posix_getgrgid" nocase
        $i9 = /\$_SERVER\s{0,3}\[\s{0,3}['"]SERVER_SOFTWARE/
        $i10 = "open_basedir" nocase
        $direct = /\b(unlink|rmdir|rename|chmod|scandir|opendir|file_put_contents|fopen|copy|file_get_contents|readfile|highlight_file|show_source)\s{0,3}\(\s{0,3}@?(\$_(GET|POST|REQUEST|COOKIE)\s{0,3}\[|base64_decode\s{0,3}\(\s{0,3}\$_(GET|POST|REQUEST|COOKIE)|urldecode\s{0,3}\(\s{0,3}\$_(GET|POST|REQUEST|COOKIE))/ nocase
        $pathvar = /\$(path|dir|folder|cwd|d|p|curdir|cdir|current_?dir|location|loc|target|file|f)\s{0,3}=[^;\n]{0,60}\$_(GET|POST|REQUEST|COOKIE)\s{0,3}\[/
    condition:
        (
            fim_php_filemanager_indicators and $list and ($up or $edit) and $del and any of ($m*) and any of ($i*) and ($direct or $pathvar)
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_single_file_db_admin
{
    meta:
        author = "fim project"
        description = "Single-file database administration tool (Adminer-like): a large self-contained PHP page with SQL console, database/table browsing, import/export and login form. Legitimate dual-use software, but it gives full database access and is a common attacker drop; make sure it is intended to be here."
        family = "php_filemanager"
        severity = "medium"
        looks_for = "large PHP file with SQL console (SHOW DATABASES, textarea, connect) + many DB drivers + request input"
    strings:
        $d1 = /\b(mysql_connect|mysqli_connect|mysqli_real_connect|new\s{1,3}mysqli)\b/ nocase
        $d2 = /\bpg_connect\s{0,3}\(/ nocase
        $d3 = /\bsqlsrv_connect\s{0,3}\(/ nocase
        $d4 = /new\s{1,3}PDO\s{0,3}\(/ nocase
        $d5 = /\boci_connect\s{0,3}\(/ nocase
        $d6 = /new\s{1,3}SQLite3\s{0,3}\(/ nocase
        $q1 = /SHOW\s{1,3}DATABASES/ nocase
        $q2 = /SHOW\s{1,3}(FULL\s{1,3})?TABLES/ nocase
        $q3 = /INFORMATION_SCHEMA/ nocase
        $ta = "<textarea" nocase
        $r = /\$_(GET|POST|REQUEST)\b/
        $php = /<\?(php|=|\s)/ nocase
    condition:
        (
            filesize > 100KB and $php in (0..1024) and $r and $ta and 3 of ($d*) and 2 of ($q*)
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_wso_action_dispatch
{
    meta:
        author = "fim project"
        description = "WSO/FilesMan-style dispatcher: the action to run is taken from a request field and prefixed to build a function name ('action' . $_POST['a']), or the FilesMan default action is configured: the skeleton of the most widespread PHP file-manager shell, packed or not."
        family = "php_filemanager"
        severity = "critical"
        looks_for = "call_user_func('action' . $_POST['a']); function_exists('action' . $_POST['a']); $default_action = 'FilesMan'"
    strings:
        $d = /['"]action['"]\s{0,3}\.\s{0,3}\$_(POST|GET|REQUEST|COOKIE)\s{0,3}\[/ nocase
        $fm = /\$default_action\s{0,3}=\s{0,3}['"]FilesMan['"]/ nocase
    condition:
        (
            any of them
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_php_self_shell
{
    meta:
        author = "fim project"
        description = "Register_globals-era shell/file manager: forms post back to $PHP_SELF (not $_SERVER['PHP_SELF']), and the script deletes or writes files and runs commands using variables that arrive from the request as globals."
        family = "php_filemanager"
        severity = "high"
        looks_for = "<form action=\"$PHP_SELF\"> + unlink/fwrite/chmod + system/passthru/exec"
    strings:
        $self = /(action\s{0,3}=\s{0,3}\\?['"]?\s{0,3}(<\?(php)?\s{0,3}echo\s{1,3})?\$PHP_SELF|\$PHP_SELF\s{0,3}\.\s{0,3}['"]\?)/ nocase
        $file = /\b(unlink|rmdir|fwrite|fputs|chmod|rename|copy)\s{0,5}\(/ nocase
        $cmd = /(^|[^\w>:$.\\])(system|passthru|shell_exec|exec|popen|proc_open)\s{0,5}\(/ nocase
    condition:
        (
            filesize < 512KB and $self and $file and $cmd
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_client_payload_markers
{
    meta:
        author = "fim project"
        description = "Code that frames its output with the '->|' ... '|<-' markers of the China Chopper/AntSword clients: a payload sent by such a client, stored on the server (or a shell that mimics their protocol)."
        family = "php_filemanager"
        severity = "high"
        looks_for = "echo(\"->|\"); ... echo(\"|<-\");"
    strings:
        $start = /(echo|print)\s{0,3}\(?\s{0,3}['"]->\|['"]/ nocase
        $end = /['"]\|<-['"]/
    condition:
        (
            $start and $end
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_filemanager_mass_defacer
{
    meta:
        author = "fim project"
        description = "Mass defacer: the script walks directories from a request-supplied path and overwrites index files (index.php/index.html) with content it was given: every site on the account gets replaced."
        family = "php_filemanager"
        severity = "high"
        looks_for = "$_POST['path'] + readdir/scandir/glob + fopen(\"$dir/index.php\", 'w') + fwrite($h, $code)"
    strings:
        $idx = /['"\/]index\.(php|html?)['"]/ nocase
        $walk = /\b(readdir|scandir|glob|opendir)\s{0,5}\(/ nocase
        $w = /\b(fwrite|fputs|file_put_contents)\s{0,5}\(/ nocase
        $req = /\$_(GET|POST|REQUEST)\s{0,3}\[\s{0,3}['"]?(path|dir|folder|root|file|index|code|content|url|deface)['"]?\s{0,3}\]/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            filesize < 64KB and $idx and $walk and $w and $req and not $lic
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}
