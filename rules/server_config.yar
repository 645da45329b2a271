/*
 * server_config: web-server / PHP configuration files that make an area
 * executable, typically dropped into an upload directory next to a
 * webshell: .htaccess mapping image/text extensions to the PHP or CGI
 * handler, SetHandler without a file filter, Options +ExecCGI,
 * auto_prepend_file/auto_append_file in .htaccess or .user.ini.
 *
 * Uses the fim externals `filename` and `filepath`.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

rule fim_server_config_htaccess_maps_non_php_to_php
{
    meta:
        author = "fim project"
        description = ".htaccess maps image/text/media extensions (.jpg, .png, .gif, .txt, .ico...) to the PHP or CGI handler, so files that pass upload filters as images are executed as code."
        family = "server_config"
        severity = "high"
        looks_for = "AddType/AddHandler application/x-httpd-php|php-script|cgi-script ... .jpg .png .gif .txt .ico ..."
    strings:
        $a = /Add(Type|Handler)\s{1,20}[^\s\n]{0,60}(x-httpd-php|php-script|php\d?-script|php-cgi|x-httpd-fastphp|x-httpd-ea-php|cgi-script|proxy:unix[^\s\n]{0,80}php)[^\n]{0,200}\.(jpe?g|png|gif|ico|bmp|webp|svg|txt|log|css|js|xml|json|csv|pdf|zip|docx?|xlsx?|mp[34]|avi|wav|tiff?|ttf|woff2?|md|dat|tmp)\b/ nocase
        $b = /Add(Type|Handler)\s{1,20}[^\s\n]{0,60}(x-httpd-php|php-script|php\d?-script|php-cgi|x-httpd-fastphp|cgi-script)[^\n]{0,40}\s(jpe?g|png|gif|ico|txt)\b/ nocase
    condition:
        (filename == ".htaccess" or filename == "htaccess" or filename matches /^\.?htaccess\./i) and any of them
}

rule fim_server_config_htaccess_sethandler_everything
{
    meta:
        author = "fim project"
        description = ".htaccess sets the PHP/CGI handler for files that are not PHP scripts (SetHandler outside a *.php filter, or inside a filter matching image/text names): every uploaded file becomes executable."
        family = "server_config"
        severity = "high"
        looks_for = "SetHandler application/x-httpd-php|php-script|cgi-script without <FilesMatch \\.php$>, or <Files*> on image/text names"
    strings:
        $set = /SetHandler\s{1,20}[^\s\n]{0,60}(x-httpd-php|php-script|php\d?-script|php-cgi|cgi-script|proxy:unix[^\s\n]{0,80}php)/ nocase
        $files = /<Files(Match)?\b/ nocase
        $files_nonphp = /<Files(Match)?\s[^>\n]{0,200}(jpe?g|png|gif|ico|bmp|txt|svg|\.log|\.css)[^>\n]{0,100}>\s{0,200}(<[^>]{1,200}>\s{0,100}){0,3}SetHandler\s{1,20}[^\s\n]{0,60}(x-httpd-php|php-script|php\d?-script|php-cgi|cgi-script)/ nocase
        $files_all = /<Files(Match)?\s{1,5}['"]?(\*|\.\*|\^?\.\*\$?)['"]?\s{0,5}>\s{0,200}(<[^>]{1,200}>\s{0,100}){0,3}SetHandler\s{1,20}[^\s\n]{0,60}(x-httpd-php|php-script|php\d?-script|php-cgi|cgi-script)/ nocase
    condition:
        (filename == ".htaccess" or filename == "htaccess" or filename matches /^\.?htaccess\./i)
        and (($set and not $files) or $files_nonphp or $files_all)
}

rule fim_server_config_auto_prepend
{
    meta:
        author = "fim project"
        description = "PHP configuration in .htaccess/.user.ini/php.ini sets auto_prepend_file/auto_append_file, so a chosen file is executed before/after every PHP script: a persistent backdoor loader (some security plugins also use it legitimately - check the target file)."
        family = "server_config"
        severity = "high"
        looks_for = "php_value auto_prepend_file ... / auto_append_file = ..."
    strings:
        $ht = /php_(admin_)?value\s{1,20}auto_(prepend|append)_file\s{1,20}['"]?[^\s'"\n]/ nocase
        $none = /php_(admin_)?value\s{1,20}auto_(prepend|append)_file\s{1,20}['"]?none\b/ nocase
        $ini = /(^|\n)\s{0,20}auto_(prepend|append)_file\s{0,20}=\s{0,20}['"]?[^\s'";\n]/ nocase
        $ini_none = /(^|\n)\s{0,20}auto_(prepend|append)_file\s{0,20}=\s{0,20}['"]?(none\b|['"]?\s{0,20}(\n|$))/ nocase
    condition:
        ((filename == ".htaccess" or filename == "htaccess") and $ht and not $none)
        or ((filename == ".user.ini" or filename == "php.ini" or filename == "user.ini") and $ini and not $ini_none)
}

rule fim_server_config_prepend_from_stream
{
    meta:
        author = "fim project"
        description = "auto_prepend_file/auto_append_file or include_path points to a data:/php://input stream or to a non-PHP file (image/text/temp): code is injected into every request."
        family = "server_config"
        severity = "critical"
        looks_for = "auto_prepend_file = \"data:...\" / php://input / *.jpg / /tmp/..."
    strings:
        $a = /auto_(prepend|append)_file\s{0,20}=?\s{0,20}['"]?(data:|php:\/\/input|php:\/\/filter|\/tmp\/|\/dev\/shm\/|[^\s'"\n]{1,200}\.(jpe?g|png|gif|ico|txt|log|css|js|svg|bmp|dat|tmp)\b)/ nocase
    condition:
        $a and (filename == ".htaccess" or filename == "htaccess" or filename == ".user.ini" or filename == "user.ini" or filename == "php.ini")
}

rule fim_server_config_exec_cgi_in_upload_area
{
    meta:
        author = "fim project"
        description = ".htaccess enables CGI execution (Options +ExecCGI, AddHandler cgi-script) in a directory that looks like an upload/media/cache area: uploaded scripts can run."
        family = "server_config"
        severity = "high"
        looks_for = "Options +ExecCGI / AddHandler cgi-script in .htaccess under uploads/, files/, images/, media/, tmp/, cache/"
    strings:
        $exec = /Options\s[^\n]{0,100}\+ExecCGI/ nocase
        $cgi = /AddHandler\s{1,20}cgi-script/ nocase
    condition:
        (filename == ".htaccess" or filename == "htaccess")
        and any of them
        and filepath matches /\/(uploads?|files|images?|img|media|tmp|temp|cache|attachments?|avatars?|userfiles|wp-content\/uploads)\//i
}

rule fim_server_config_exec_cgi
{
    meta:
        author = "fim project"
        description = ".htaccess enables CGI execution (Options +ExecCGI together with a cgi-script handler for script extensions). Normal in a cgi-bin, suspicious anywhere else."
        family = "server_config"
        severity = "medium"
        looks_for = "Options +ExecCGI + AddHandler cgi-script .pl/.py/.cgi/.sh"
    strings:
        $exec = /Options\s[^\n]{0,100}\+ExecCGI/ nocase
        $cgi = /AddHandler\s{1,20}cgi-script\s[^\n]{0,100}\.(pl|py|cgi|sh|rb|lua|php)\b/ nocase
    condition:
        (filename == ".htaccess" or filename == "htaccess") and $exec and $cgi
}

rule fim_server_config_php_engine_enabled
{
    meta:
        author = "fim project"
        description = ".htaccess turns the PHP engine back on (php_flag engine on) in a directory that looks like an upload/media/cache area, undoing a hardening that keeps uploads inert."
        family = "server_config"
        severity = "medium"
        looks_for = "php_flag engine on / php_admin_flag engine 1 in uploads/, files/, images/, media/, tmp/, cache/"
    strings:
        $on = /php_(admin_)?flag\s{1,20}engine\s{1,20}(on|1|true)\b/ nocase
    condition:
        (filename == ".htaccess" or filename == "htaccess") and $on
        and filepath matches /\/(uploads?|files|images?|img|media|tmp|temp|cache|attachments?|avatars?|userfiles)\//i
}
