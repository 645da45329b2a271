/*
 * php_code_exec: PHP code execution driven by HTTP request input.
 *
 * A webshell of this family takes PHP code (or the name of a function) from
 * the request - $_GET/$_POST/$_REQUEST/$_COOKIE/$_FILES, HTTP headers via
 * $_SERVER['HTTP_*'] or getallheaders(), or the raw body via php://input -
 * and hands it to something that runs code: eval/assert/create_function,
 * preg_replace with the /e modifier, include of a data:/php://input stream,
 * a variable function call or a callback taken from the request.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_php_code_exec_not_asset
{
    meta:
        author = "fim project"
        description = "Helper: the file is not JavaScript, a style sheet, JSON, documentation or a translation catalogue, where PHP syntax shows up as quoted examples or keyword lists, nor a PHPUnit test case in a tests folder (attack strings as test data)"
        family = "php_code_exec"
        severity = "low"
        looks_for = "extension not in .js .cjs .mjs .ts .vue .css .json .map .md .rst .po"
    strings:
        // a PHPUnit test case: security products test their filters with attack strings
        $testcase = /class\s{1,5}\w{1,80}Test\s{1,5}extends\s{1,5}\\?[\w\\]{0,80}TestCase\b/
        // a text file holds a PHP payload only when a line starts with the PHP tag (prose quoting PHP does not)
        $tag0 = /<\?(php|=|\s)/ nocase
        $tagline = /\n<\?(php|=|\s)/ nocase
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
}


private rule fim_php_code_exec_request_input
{
    meta:
        author = "fim project"
        description = "Helper: the file reads attacker-controlled HTTP request input"
        family = "php_code_exec"
        severity = "low"
        looks_for = "superglobals, php://input, request headers"
    strings:
        $g = /\$_(GET|POST|REQUEST|COOKIE|FILES)\b/
        $s = /\$_SERVER\s{0,5}\[\s{0,5}['"](HTTP_|QUERY_STRING|REQUEST_URI|PATH_INFO|PHP_AUTH_)/
        $i = "php://input" nocase
        $h1 = /getallheaders\s{0,5}\(/ nocase
        $h2 = /apache_request_headers\s{0,5}\(/ nocase
        $raw = "HTTP_RAW_POST_DATA"
        $old = /\$HTTP_(GET|POST|COOKIE|POST_FILES)_VARS/
        $fi = /filter_input(_array)?\s{0,5}\(\s{0,5}INPUT_(GET|POST|COOKIE|SERVER|REQUEST)/ nocase
        $env = /getenv\s{0,5}\(\s{0,5}['"]HTTP_/ nocase
    condition:
        any of them
}

private rule fim_php_code_exec_variable_call_with_variable_argument
{
    meta:
        author = "fim project"
        description = "Helper: a function is called through a variable with a variable argument ($f($x))"
        family = "php_code_exec"
        severity = "low"
        looks_for = "$f($x), $f( $x), $f(@$x)"
    strings:
        $c1 = /(^|[^\w>:$.\\])\$\$?([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\s{0,3}\(\$/
        $c2 = /(^|[^\w>:$.\\])\$\$?([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\s{0,3}\( \$/
        $c3 = /(^|[^\w>:$.\\])\$\$?([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\s{0,3}\(@\$/
    condition:
        any of them
}

private rule fim_php_code_exec_variable_call
{
    meta:
        author = "fim project"
        description = "Helper: a function is called through a variable ($f(...))"
        family = "php_code_exec"
        severity = "low"
        looks_for = "$f($x), $f('x'), $f(\"x\"), $f()"
    strings:
        $c4 = /(^|[^\w>:$.\\])\$\$?([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\s{0,3}\(\x27/
        $c5 = /(^|[^\w>:$.\\])\$\$?([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\s{0,3}\("/
        $c6 = /(^|[^\w>:$.\\])\$\$?([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\s{0,3}\(\)/
    condition:
        fim_php_code_exec_variable_call_with_variable_argument or any of them
}

rule fim_php_code_exec_eval_request
{
    meta:
        author = "fim project"
        description = "eval()/assert() is called on HTTP request input (possibly through decoders): the request can run arbitrary PHP code. This is the classic one-line webshell."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "eval( ... $_POST/$_GET/$_REQUEST/$_COOKIE/$_SERVER[HTTP_*]/php://input/getallheaders ... ), assert($_REQUEST[..]) / assert(base64_decode($_POST[..]))"
    strings:
        $a = /(^|[^\w>:$.])eval\s{0,10}\(([^;{}'"]|'[^'\n]{0,80}'|"[^"\n]{0,80}"){0,100}(\$_(GET|POST|REQUEST|COOKIE|FILES)\b|\$_SERVER\s{0,5}\[\s{0,5}['"](HTTP_|QUERY_STRING|REQUEST_URI|PATH_INFO)|['"]php:\/\/input|getallheaders|apache_request_headers|HTTP_RAW_POST_DATA|\$HTTP_(GET|POST|COOKIE)_VARS|filter_input|getenv\s{0,5}\(\s{0,5}['"]HTTP_)/ nocase
        $b = /(^|[^\w>:$.])assert\s{0,10}\(\s{0,10}@?(\(\s{0,5}string\s{0,5}\)\s{0,5})?(['"]\?>['"]\s{0,5}\.\s{0,5})?((stripslashes|trim|base64_decode|str_rot13|gzinflate|gzuncompress|gzdecode|urldecode|rawurldecode|strrev|hex2bin|html_entity_decode|file_get_contents)\s{0,5}\(\s{0,5}@?){0,3}(\$_(GET|POST|REQUEST|COOKIE|FILES)\b|\$_SERVER\s{0,5}\[\s{0,5}['"](HTTP_|QUERY_STRING|REQUEST_URI|PATH_INFO)|['"]?php:\/\/input|getallheaders|apache_request_headers|HTTP_RAW_POST_DATA|\$HTTP_(GET|POST|COOKIE)_VARS|filter_input|getenv\s{0,5}\(\s{0,5}['"]HTTP_)/ nocase
    condition:
        (
            (
                $a or $b
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_eval_variable_in_small_script
{
    meta:
        author = "fim project"
        description = "A small PHP script copies request input into a variable and evaluates a variable with eval()/assert(): request-controlled code execution split over several statements."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "small file, $v = <request input>; eval($v) / assert($v)"
    strings:
        $assign = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,10}=[^;]{0,80}(\$_(GET|POST|REQUEST|COOKIE)\b|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|php:\/\/input|getallheaders|apache_request_headers|getenv\s{0,5}\(\s{0,5}['"]HTTP_)/
        $sink_e = /(^|[^\w>:$.\\])eval\s{0,10}\(\s{0,10}(['"]\?>['"]\s{0,5}\.\s{0,5})?@?\$[a-zA-Z_\x7f-\xff]/ nocase
        $sink_a = /(^|[^\w>:$.\\])assert\s{0,10}\(\s{0,10}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}(\[[^\]\n]{1,40}\]\s{0,5})?\)/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 6KB and $assign and any of ($sink*) and not $lic
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_request_called_as_function
{
    meta:
        author = "fim project"
        description = "A request parameter or header is called as a function, e.g. $_GET['f']($_GET['a']): the client chooses which PHP function runs."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$_GET[...](...), $_POST[...](...), getallheaders()[...](...)"
    strings:
        $a = /\$_(GET|POST|REQUEST|COOKIE|SERVER|FILES)\s{0,5}\[[^\]\n]{1,60}\]\s{0,5}(\[[^\]\n]{1,40}\]\s{0,5})?\(\s{0,5}(@?\$|['"]|\)|[a-zA-Z_][\w]{0,30}\s{0,3}\()/
        $b = /(getallheaders|apache_request_headers)\s{0,5}\(\s{0,5}\)\s{0,5}\[[^\]\n]{1,60}\]\s{0,5}\(/ nocase
    condition:
        (
            (
                any of them
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_variable_function_with_request
{
    meta:
        author = "fim project"
        description = "A variable function ($f(...), $$f(...), ${...}(...)) is called directly with request input as argument: typical of shells where the function name is hidden in a variable (e.g. $f = 'as'.'sert')."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$var( $_POST[...] ) with $var not being an object method"
    strings:
        $a = /(^|[^\w>:$.\\])\$\$?\{?([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\}?\(\s{0,10}@?((stripslashes|trim|base64_decode|urldecode|rawurldecode|str_rot13|strrev|hex2bin)\s{0,5}\(\s{0,5})?(\$_(GET|POST|REQUEST|COOKIE|FILES)\b|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|file_get_contents\s{0,5}\(\s{0,5}['"]php:\/\/input|getallheaders|apache_request_headers)/
        $b = /\$\{\s{0,5}['"][^'"\n]{1,30}['"]\s{0,5}\}\s{0,5}\(/
    condition:
        (
            (
                $a or ($b and fim_php_code_exec_request_input)
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_variable_function_in_small_script
{
    meta:
        author = "fim project"
        description = "A small PHP script assigns request input to variables and calls a variable function with a variable argument ($f($a)): request-controlled function call."
        family = "php_code_exec"
        severity = "high"
        looks_for = "small file, $x = $_REQUEST[...]; ... $f($x)"
    strings:
        $assign = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,10}=[^;]{0,60}(\$_(GET|POST|REQUEST|COOKIE)\b|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|getallheaders|apache_request_headers|php:\/\/input|getenv\s{0,5}\(\s{0,5}['"]HTTP_)/
        // a configured callable ($conf['hash']($pw)) is common; a numeric or nested element is not
        $call4 = /(^|[^\w>:$.\\])\$([a-zA-Z\x7f-\xff][\w\x7f-\xff]{0,30}|_[a-z0-9_\x7f-\xff][\w\x7f-\xff]{0,29}|_)\s{0,3}(\[\s{0,3}\d{1,3}\s{0,3}\]|\[[^\]\n]{1,40}\]\s{0,3}\[[^\]\n]{1,40}\])\s{0,3}\(\$/
        $call5 = /(^|[^\w>:$.\\])\$_{1,3}\s{0,3}\[[^\]\n]{1,40}\]\s{0,3}\(\$/
        $closure = /function\s{0,10}\(/ nocase
        $fn = /[^$\w]fn\s{0,5}\(/
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 3KB and $assign and (fim_php_code_exec_variable_call_with_variable_argument or $call4 or $call5) and not $closure and not $fn and not $lic
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_small_script_eval_decoded_with_request
{
    meta:
        author = "fim project"
        description = "A small PHP script that reads request input (often php://input or a cookie) evaluates decoded data (eval(gzuncompress(...)), eval(base64_decode(...)), eval($f(...))): an encrypted/encoded command channel typical of webshell agents."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "small file + request input + eval/assert( decoder-or-$f( ... ) )"
    strings:
        $a = /(^|[^\w>:$.\\])@?(eval|assert)\s{0,10}\(\s{0,10}(['"]\?>['"]\s{0,5}\.\s{0,5})?@?(gzinflate|gzuncompress|gzdecode|zlib_decode|bzdecompress|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin|rawurldecode|urldecode|openssl_decrypt|mcrypt_decrypt|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30})\s{0,10}\(/ nocase
    condition:
        (
            (
                filesize < 8KB and $a and fim_php_code_exec_request_input
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_remote_code
{
    meta:
        author = "fim project"
        description = "PHP code is fetched from a remote URL and executed (eval of file_get_contents/curl output from http(s)/ftp, or include/require of a remote URL): a remote-controlled loader."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "eval(file_get_contents('http://...')), include 'http://...', small file fetching a URL then eval($var)"
    strings:
        $eval = /(^|[^\w>:$.\\])(eval|assert)\s{0,10}\(\s{0,10}(['"]\?>['"]\s{0,5}\.\s{0,5})?@?(file_get_contents|base64_decode\s{0,5}\(\s{0,5}file_get_contents|gzinflate\s{0,5}\(\s{0,5}file_get_contents|implode\s{0,5}\(\s{0,5}['"]{2}\s{0,5},\s{0,5}file)\s{0,5}\(\s{0,5}['"](https?|ftp):\/\// nocase
        $inc = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}['"](https?|ftp):\/\// nocase
        $fetch = /\b(file_get_contents|curl_init|fopen)\s{0,5}\(\s{0,5}['"](https?|ftp):\/\// nocase
        $evalvar_e = /(^|[^\w>:$.\\])eval\s{0,10}\(\s{0,10}(['"]\?>['"]\s{0,5}\.\s{0,5})?@?\$[a-zA-Z_\x7f-\xff]/ nocase
        $evalvar_a = /(^|[^\w>:$.\\])assert\s{0,10}\(\s{0,10}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}(\[[^\]\n]{1,40}\]\s{0,5})?\)/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                $eval or $inc or (filesize < 8KB and $fetch and any of ($evalvar*) and not $lic)
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_callback_from_request
{
    meta:
        author = "fim project"
        description = "A PHP callback-taking function (call_user_func, array_map, usort, register_shutdown_function, ob_start, array_walk, iterator_apply...) receives its callback from the request: the client chooses which function runs."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "call_user_func($_GET[..]...), array_map($_POST[..],..), usort($a, $_REQUEST[..]) ..."
    strings:
        // callback is the first argument
        $first = /\b(call_user_func(_array)?|array_map|register_shutdown_function|register_tick_function|ob_start|set_error_handler|set_exception_handler|forward_static_call(_array)?|spl_autoload_register|header_register_callback|ReflectionFunction|Closure::fromCallable)\s{0,10}\(\s{0,10}@?(\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|getallheaders\s{0,5}\(|file_get_contents\s{0,5}\(\s{0,5}['"]php:\/\/input)/ nocase
        // callback is the second (or later) argument
        $later = /\b(array_filter|array_walk(_recursive)?|usort|uasort|uksort|array_reduce|iterator_apply|preg_replace_callback|mb_ereg_replace_callback|array_udiff|array_uintersect|array_diff_ukey|array_intersect_ukey|array_diff_uassoc|array_intersect_uassoc)\s{0,10}\([^,;{}()]{1,100},\s{0,10}@?(\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|getallheaders\s{0,5}\()/ nocase
    condition:
        (
            (
                any of them
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_callback_dangerous_function
{
    meta:
        author = "fim project"
        description = "A code-running function name (assert, eval-like, system, exec, passthru, create_function...) is passed as a string callback to call_user_func/array_map/array_filter/register_shutdown_function/ob_start etc. in a script that reads request input: hidden code execution."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "array_map('assert', $_POST), call_user_func('system', ...), ob_start('passthru')..."
    strings:
        $first = /\b(call_user_func(_array)?|array_map|register_shutdown_function|register_tick_function|ob_start|set_error_handler|set_exception_handler|forward_static_call(_array)?|header_register_callback|ReflectionFunction|Closure::fromCallable)\s{0,10}\(\s{0,10}['"](assert|system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|create_function|include|require|file_put_contents)['"]/ nocase
        $later = /\b(array_filter|array_walk(_recursive)?|usort|uasort|uksort|array_reduce|iterator_apply|preg_replace_callback|mb_ereg_replace_callback|array_udiff|array_uintersect|array_diff_ukey|array_intersect_ukey)\s{0,10}\([^,;{}]{1,100},\s{0,10}['"](assert|system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|create_function)['"]/ nocase
        $filter = /FILTER_CALLBACK[^;]{0,150}['"]options['"]\s{0,5}=>\s{0,5}(['"](assert|system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|create_function)['"]|\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[)/ nocase
    condition:
        (
            (
                ($first or $later or $filter) and fim_php_code_exec_request_input
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_preg_replace_eval_modifier
{
    meta:
        author = "fim project"
        description = "preg_replace()/preg_filter()/mb_ereg_replace() with the /e (eval) modifier evaluates the replacement as PHP code. Removed in PHP 7: found in very old legacy code and in webshells. Higher severities are reported by other rules when the file reads request input or the replacement hides code."
        family = "php_code_exec"
        severity = "medium"
        looks_for = "preg_replace('/.../e', ...)"
    strings:
        $e = /\b(preg_replace|preg_filter)\s{0,10}\(\s{0,10}['"][^'"\n]{1,200}[\/#~@!|%+}\])][a-df-zA-DF-Z]{0,6}e[a-zA-Z]{0,6}['"]\s{0,10},/ nocase
        $mb = /\bmb_e?regi?_replace\s{0,10}\([^;{}]{0,200},\s{0,10}['"][imxsplnb]{0,6}e[imxsplnb]{0,6}['"]\s{0,10}\)/ nocase
    condition:
        (
            (
                any of them
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_preg_replace_eval_modifier_hidden_code
{
    meta:
        author = "fim project"
        description = "preg_replace() with the /e modifier whose replacement is escaped, encoded or calls eval/decoders/command functions: a classic way to hide a webshell loader."
        family = "php_code_exec"
        severity = "high"
        looks_for = "preg_replace('/.*/e', '\\x65\\x76...' or 'eval(base64_decode(...))', ...)"
    strings:
        $a = /\b(preg_replace|preg_filter)\s{0,10}\(\s{0,10}['"][^'"\n]{1,200}[\/#~@!|%+}\])][a-df-zA-DF-Z]{0,6}e[a-zA-Z]{0,6}['"]\s{0,10},\s{0,10}['"](\\x[0-9a-fA-F]{2}|\\[0-7]{3}|[^'"\n]{0,60}(eval|assert|base64_decode|gzinflate|gzuncompress|str_rot13|system|passthru|shell_exec|exec|create_function)\s{0,5}\()/ nocase
    condition:
        (
            (
                $a
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_preg_replace_eval_modifier_request
{
    meta:
        author = "fim project"
        description = "preg_replace()/mb_ereg_replace() with the eval (/e) modifier where request input reaches the call (or in a small script that reads request input): request-controlled PHP code execution. Old libraries that use /e with fixed replacements stay at medium."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "preg_replace('/.*/e', $_POST[...], ...)"
    strings:
        // the request reaches the /e call itself (pattern, replacement or subject), or the file is a small script
        $direct = /\b(preg_replace|preg_filter)\s{0,10}\(\s{0,10}['"][^'"\n]{1,200}[\/#~@!|%+}\])][a-df-zA-DF-Z]{0,6}e[a-zA-Z]{0,6}['"]\s{0,10},[^;]{0,200}\$_(GET|POST|REQUEST|COOKIE|SERVER)\b/ nocase
        $pattern = /\b(preg_replace|preg_filter|mb_ereg_replace)\s{0,10}\(\s{0,10}@?(\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[|(base64_decode|urldecode|stripslashes)\s{0,5}\(\s{0,5}\$_(GET|POST|REQUEST|COOKIE))/ nocase
    condition:
        (
            (
                fim_php_code_exec_preg_replace_eval_modifier and fim_php_code_exec_request_input
                and ($direct or $pattern or filesize < 4KB)
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}


rule fim_php_code_exec_create_function_request
{
    meta:
        author = "fim project"
        description = "create_function() builds a function from request input: arbitrary PHP code execution."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "create_function('', $_POST[...])"
    strings:
        $a = /\bcreate_function\s{0,10}\(([^;{}'"]|'[^'\n]{0,80}'|"[^"\n]{0,80}"){0,100}(\$_(GET|POST|REQUEST|COOKIE)\b|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|['"]php:\/\/input|getallheaders|apache_request_headers)/ nocase
    condition:
        (
            (
                $a
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_include_data_uri
{
    meta:
        author = "fim project"
        description = "include/require of a data:// URI executes PHP code held in a string. Some template engines compile templates this way; in a file that also reads request input it is a backdoor (reported as critical by another rule)."
        family = "php_code_exec"
        severity = "medium"
        looks_for = "include 'data://text/plain;base64,...'"
    strings:
        $data = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}['"]data:/ nocase
    condition:
        (
            (
                $data
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_include_uploaded_file
{
    meta:
        author = "fim project"
        description = "A small script includes/requires the temporary file of an upload (via a variable): whatever PHP the client uploads is executed immediately."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$f = $_FILES[x]['tmp_name']; include $f;"
    strings:
        $tmp = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=\s{0,5}@?\$_FILES\s{0,5}\[[^\]\n]{1,40}\]\s{0,5}\[\s{0,5}['"]tmp_name['"]/ nocase
        $inc = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}@?\$[a-zA-Z_\x7f-\xff]/ nocase
    condition:
        (
            (
                filesize < 8KB and $tmp and $inc
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_include_request_or_stream
{
    meta:
        author = "fim project"
        description = "include/require of request input, of an uploaded temporary file, of php://input, or of a data:// URI in a script that reads request input: runs attacker-supplied PHP code (file inclusion backdoor)."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "include $_GET[..]; include 'php://input'; require 'data://text/plain;base64,' . $_POST[..]"
    strings:
        $req = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}@?(\$_(GET|POST|REQUEST|COOKIE|FILES)\s{0,5}\[|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|getallheaders)/ nocase
        $input = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}['"](php:\/\/input|php:\/\/filter[^'"]{0,80}resource=(data:|php:\/\/input))/ nocase
    condition:
        (
            (
                $req or $input or (fim_php_code_exec_include_data_uri and fim_php_code_exec_request_input)
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_include_hidden_file
{
    meta:
        author = "fim project"
        description = "include/require of a file disguised as an image/media file (.ico, .jpg, .png, .gif...), of a file in /tmp or /dev/shm, or of a path written with \\x/octal escapes: a loader for PHP code hidden elsewhere on the site (e.g. a fake favicon)."
        family = "php_code_exec"
        severity = "high"
        looks_for = "@include '/path/.favicon_1a2b.ico'; include \"\\057var\\057www...\""
    strings:
        $ext = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}['"][^'"\n]{1,200}\.(ico|jpe?g|png|gif|bmp|webp|zip|mp3|ttf|woff2?)['"]/ nocase
        $tmp = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}['"](\/tmp\/|\/dev\/shm\/|\/var\/tmp\/)/ nocase
        $php = /<\?(php|=|\s)/ nocase
        $esc = /(^|[^\w>:$.])(include|require)(_once)?\s{0,10}\(?\s{0,10}"[^"\n]{0,100}(\\x[0-9a-fA-F]{2}|\\[0-7]{3})/ nocase
    condition:
        (
            (
                $php and ($ext or $esc or $tmp)
                and not (extension == ".js" or extension == ".mjs" or extension == ".twig" or extension == ".md" or extension == ".vue")
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_extract_request_then_call
{
    meta:
        author = "fim project"
        description = "extract()/parse_str() imports request parameters as local variables and the script then calls a variable function: the client controls both the function and its arguments."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "file < 32KB: extract($_REQUEST); ... $a($b)"
    strings:
        $ex = /\b(extract\s{0,10}\(\s{0,10}@?\$_(GET|POST|REQUEST|COOKIE)\b|parse_str\s{0,10}\(\s{0,10}(\$_SERVER\s{0,5}\[\s{0,5}['"]QUERY_STRING['"]\s{0,5}\]|\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]|file_get_contents\s{0,5}\(\s{0,5}['"]php:\/\/input['"]\s{0,5}\))\s{0,5}\))/ nocase
    condition:
        (
            (
                filesize < 32KB and $ex and fim_php_code_exec_variable_call
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_computed_callback
{
    meta:
        author = "fim project"
        description = "A callback-taking function (uasort, uksort, array_udiff_*, array_intersect_u*, array_reduce, array_walk, register_tick_function, call_user_func...) gets a callback that is computed (a variable, a decoder call, a concatenation or an escaped string) in a small script that reads request input: the function that runs is chosen by the client or hidden from the reader."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "small file: $e = $_REQUEST['e']; uksort($a, $e); array_map(base64_decode($e), ...); array_intersect_ukey(..., $c.'ert')"
    strings:
        // the callback is a later argument: ", <computed> )"
        $later = /\b(array_filter|array_walk(_recursive)?|u[ak]?sort|array_reduce|iterator_apply|array_u?(diff|intersect)_u?(assoc|key)|array_u(diff|intersect)(_u?assoc)?|preg_replace_callback|mb_ereg_replace_callback)\s{0,10}\([^;{]{1,200},\s{0,10}@?(\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}(\.|,|\)\s{0,3}[;)])|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[[^\]\n]{1,40}\]\s{0,3}\)|(base64_decode|str_rot13|strrev|hex2bin|pack|urldecode|gzinflate|trim)\s{0,5}\(|['"][^'"\n]{0,20}\\x[0-9a-fA-F]{2}|['"][a-z]{1,5}['"]\s{0,3}\.|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[[^\]\n]{1,20}\]\s{0,3}\.|['"](assert|system|exec|passthru|shell_exec|create_function|eval|popen)['"]\s{0,3}\))/ nocase
        // the callback is the first argument
        $first = /\b(call_user_func(_array)?|array_map|register_shutdown_function|register_tick_function|forward_static_call(_array)?|header_register_callback|set_error_handler|set_exception_handler|ob_start)\s{0,10}\(\s{0,10}@?((base64_decode|str_rot13|strrev|hex2bin|pack|urldecode|gzinflate|trim)\s{0,5}\(|['"][^'"\n]{0,20}\\x[0-9a-fA-F]{2}|['"][a-z]{1,10}['"]\s{0,3}\.\s{0,3}(\$|['"])|assert\s{0,3},|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}(,|==|\?)|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\.\s{0,3}['"][a-z]{1,10}['"]|"\{?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\}?"\s{0,3},|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[[^\]\n]{1,10}\]\s{0,3}\.|[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\s{0,3}['"][a-z]{3,12}['"]\s{0,3}\)\s{0,3},)/ nocase
        // an output-buffer handler taken from a variable (shutdown and error handlers in variables are common)
        $ob = /\bob_start\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)\s{0,3};/ nocase
        $method = /->\s{0,3}u[ak]sort\s{0,5}\(\s{0,5}(['"](assert|system|exec|passthru|shell_exec)['"]|\$)/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 4KB and fim_php_code_exec_request_input and any of ($later, $first, $method, $ob) and not $lic
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_request_into_object_then_magic_call
{
    meta:
        author = "fim project"
        description = "Request input is stored in an object property (by value or by reference) and a magic method (__destruct, __toString, __get, __call, __wakeup) calls a function through a variable: code execution hidden in object life-cycle hooks."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "@$o->p = &$_POST['x']; class { function __destruct() { $f = ...; $f('', $this->p); } }"
    strings:
        $prop = /->\s{0,3}[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=\s{0,5}&?\s{0,3}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[/
        $magic = /function\s{1,5}__(destruct|toString|get|call|wakeup|invoke|set|unset|isset)\s{0,5}\(/ nocase
        $call = /(^|[^\w>:$.\\])@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\s{0,5}(['"]['"]\s{0,5},\s{0,5})?\$this->/
        $cuf = /\bcall_user_func(_array)?\s{0,5}\(\s{0,5}\$this->/ nocase
    condition:
        (
            (
                filesize < 16KB and $prop and $magic and ($call or $cuf)
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_expression_called_with_request
{
    meta:
        author = "fim project"
        description = "The result of an expression (a concatenation of substr() pieces, a decoder call, an array element) is called as a function with request input as its argument: the function name is computed so that it never appears in the file."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "(substr($m,0,3).substr($m,4))($_GET['a']); (base64_decode('...'))($_POST['x'])"
    strings:
        $a = /\)\s{0,3}\)\s{0,3}\(\s{0,3}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,3}\[/
        $b = /['"]\s{0,3}\)\s{0,3}\(\s{0,3}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,3}\[/
    condition:
        (
            (
                any of them
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_reflection_invoke_request
{
    meta:
        author = "fim project"
        description = "ReflectionFunction/ReflectionMethod is built from a name that is not a literal and invoked in a small script that reads request input: a function chosen by the client runs."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$r = new ReflectionFunction($p['a']); $r->invoke($p['b'])"
    strings:
        $new = /new\s{1,5}ReflectionFunction\s{0,5}\(\s{0,5}(\$|['"][^'"\n]{0,10}(\\x|['"]\s{0,3}\.))/ nocase
        $inv = /->\s{0,3}invoke(Args)?\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize < 8KB and $new and $inv and fim_php_code_exec_request_input
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_eval_interpolated_string
{
    meta:
        author = "fim project"
        description = "eval()/assert() of a double-quoted string that interpolates a variable or a request field (eval(\"?>$code<?\")) in a small script that reads request input: the request's text is run as PHP code."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$c = $_POST['code']; eval(\"?\".\">$c<?\"); assert(\"$x\"); eval(\"?>$_POST[c]\")"
    strings:
        $a = /(^|[^\w>:$.\\])(eval|assert)\s{0,10}\(\s{0,5}("[^"\n]{0,10}"\s{0,3}\.\s{0,3})?"[^"\n]{0,20}\{?\$[a-zA-Z_\x7f-\xff]/ nocase
        $b = /(^|[^\w>:$.\\])(eval|assert)\s{0,10}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\.\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)/ nocase
        // "?".">" keeps a closing tag out of the source: the evaluated text starts in HTML mode
        $split = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}['"]\?['"]\s{0,3}\.\s{0,3}['"]>[^'"\n]{0,10}\{?\$/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 8KB and ((any of ($a, $b) and fim_php_code_exec_request_input) or $split) and not $lic
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_code_wrapper_called_with_request
{
    meta:
        author = "fim project"
        description = "A small script defines a helper whose parameter goes straight into eval()/assert()/create_function() and calls a function with request input: a code-execution webshell hidden behind an innocent-looking function name."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "function check($a) { assert($a); } check($_POST['x']);"
    strings:
        $wrap = /function\s{1,5}[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,40}\s{0,5}\(\s{0,5}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}[^)]{0,40}\)\s{0,5}\{[^}]{0,300}[^\w>:$.\\](eval|assert)\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)/ nocase
        $call = /(^|[^\w>:$.\\])[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{1,40}\s{0,5}\(\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]\s{0,3}\)/
        $wrap2 = /function\s{1,5}[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,40}\s{0,5}\(\s{0,5}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}\)\s{0,5}\{[^}]{0,300}[^\w>:$.\\]\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)\s{0,3};/ nocase
        $mcall = /->\s{0,3}[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,40}\s{0,5}\(\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]\s{0,3}\)/
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 16KB and ($wrap or (filesize < 2KB and $wrap2)) and ($call or $mcall) and not $lic
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_element_called_with_request
{
    meta:
        author = "fim project"
        description = "A variable or an array element is called as a function with a single request field as argument ($f($_POST['x']), $a[0]['k']($_GET['y']), .$fn($_POST['cmd'])): the called function is hidden in data."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$arr[0]['w']($_POST['x']); echo ''.$function($_POST['cmd'])"
    strings:
        $elem = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\s{0,3}\[\s{0,3}\d{1,3}\s{0,3}\]|\s{0,3}\[[^\]\n]{1,30}\]\s{0,3}\[[^\]\n]{1,30}\])\s{0,3}\(\s{0,3}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]\s{0,3}\)/
        $var = /[.=(,;{}\s@]\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\s{0,3}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]\s{0,3}\)/
        $named = /\[[^\]\n]{1,30}\]\s{0,3}=\s{0,3}['"](assert|system|exec|passthru|shell_exec|popen|create_function|eval)['"]/ nocase
        $elem1 = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[[^\]\n]{1,30}\]\s{0,3}\(\s{0,3}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]\s{0,3}\)/
    condition:
        (
            (
                (filesize < 64KB and ($elem or $var)) or ($elem1 and $named)
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_encrypted_agent
{
    meta:
        author = "fim project"
        description = "Encrypted webshell agent (Behinder/Godzilla/AntSword style): the request body or a POST field is decrypted (openssl_decrypt/mcrypt_decrypt or a keyed XOR loop) and the result is evaluated, included or kept in the session for later evaluation."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "file_get_contents('php://input') + openssl_decrypt(..., 'AES128', $key) + eval/assert/create_function; $d[$i] ^ $k[$i+1&15] + $_SESSION[...] + eval"
    strings:
        $in1 = "php://input" nocase
        $in2 = /\$_(POST|REQUEST|COOKIE)\s{0,3}\[/
        $d1 = /\b(openssl_decrypt|mcrypt_decrypt)\s{0,5}\(/ nocase
        $d2 = /\^\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[\s{0,3}\(?\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\+\s{0,3}1\s{0,3}\)?\s{0,3}&\s{0,3}(15|0xf)\s{0,3}\]/ nocase
        $d3 = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}%\s{0,3}strlen\s{0,3}\(/ nocase
        $s1 = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}@?\$/ nocase
        $s2 = /\bcreate_function\s{0,5}\(/ nocase
        $s3 = /(^|[^\w>:$.\\])(include|require)(_once)?\s{0,5}\(?\s{0,5}@?\$/ nocase
        $s4 = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\.\s{0,3}['"]['"]/ nocase
    condition:
        (
            (
                filesize < 32KB and any of ($in*) and any of ($d*) and any of ($s*)
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_xslt_php_function
{
    meta:
        author = "fim project"
        description = "An XSL stylesheet calls PHP functions through php:function() with a code-running function, or XSLTProcessor::registerPHPFunctions() is enabled for a stylesheet taken from the request: code execution hidden in XSLT."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "<xsl:value-of select=\"php:function('assert', ...)\"/>; $p->registerPHPFunctions(); $xsl->loadXML($_POST['x'])"
    strings:
        $pf = /php:function\s{0,5}\(\s{0,5}['"](assert|system|exec|passthru|shell_exec|popen|proc_open|eval|create_function|call_user_func|file_put_contents|preg_replace)['"]/ nocase
        $reg = /registerPHPFunctions\s{0,5}\(\s{0,5}\)/ nocase
        $load = /->\s{0,3}(loadXML|load)\s{0,5}\(\s{0,5}(\$_(GET|POST|REQUEST|COOKIE)|base64_decode\s{0,3}\(\s{0,3}\$_|file_get_contents\s{0,3}\(\s{0,3}['"]php:\/\/input)/ nocase
    condition:
        (
            (
                $pf or ($reg and $load)
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_perl_extension_eval
{
    meta:
        author = "fim project"
        description = "The PHP Perl extension is instantiated and its eval() is called: Perl code (often system()) runs inside PHP, bypassing disable_functions."
        family = "php_code_exec"
        severity = "high"
        looks_for = "$p = new Perl(); $p->eval(\"system('id')\");"
    strings:
        $new = /new\s{1,5}Perl\s{0,5}\(/ nocase
        $ev = /->\s{0,3}eval\s{0,5}\(/ nocase
    condition:
        (
            (
                $new and $ev
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_dangerous_name_in_callback_variable
{
    meta:
        author = "fim project"
        description = "A variable holds the name of a code- or command-running function ('assert', 'system', 'passthru'...) and is handed as the callback to ob_start/array_map/call_user_func/usort... in a script that reads request input: the dangerous call never appears as such."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$cb = 'system'; ob_start($cb); echo $_GET['c'];"
    strings:
        $name = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}=\s{0,3}['"](assert|system|exec|passthru|shell_exec|popen|create_function|pcntl_exec)['"]\s{0,3};/ nocase
        $cb = /\b(ob_start|array_map|array_filter|array_walk|call_user_func(_array)?|u[ak]?sort|register_shutdown_function|register_tick_function|iterator_apply|array_reduce|forward_static_call(_array)?)\s{0,5}\([^;{]{0,100}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}[,)]/ nocase
        $vcall = /(^|[^\w>:$.\\])\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\("[^"\n]{0,20}\$/
    condition:
        (
            (
                filesize < 16KB and $name and ($cb or (filesize < 2KB and $vcall)) and fim_php_code_exec_request_input
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_small_script_dynamic_code
{
    meta:
        author = "fim project"
        description = "A small script copies request input into a variable and builds a function from a variable (create_function('', $code)) or includes a variable path: the request supplies code or the file to run."
        family = "php_code_exec"
        severity = "high"
        looks_for = "$code = $_GET['code']; $f = create_function('', $code); / $f = $_GET['p']; include($f);"
    strings:
        $assign = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=[^;]{0,40}(\$_(GET|POST|REQUEST|COOKIE)\s{0,3}\[|filter_input\s{0,3}\()/ nocase
        $cf = /\bcreate_function\s{0,5}\(\s{0,5}(['"][^'"\n]{0,40}['"]|null)\s{0,5},\s{0,5}@?\$[a-zA-Z_\x7f-\xff]/ nocase
        $inc = /(^|[^\w>:$.\\])(include|require)(_once)?\s{0,5}\(?\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)?\s{0,3};/ nocase
        $direct = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,3}\[[^\]\n]{1,30}\]\s{0,3};/
        $check = /\b(in_array|array_key_exists|file_exists|is_file|basename|preg_match|realpath|isset\s{0,3}\(\s{0,3}\$[a-zA-Z_]{1,30}\[)/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 2KB and $assign and ($cf or ($inc and $direct and not $check)) and not $lic
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_preg_replace_decoded_pattern
{
    meta:
        author = "fim project"
        description = "preg_replace() gets its pattern from a decoder (base64_decode, str_rot13, strrev, hex2bin...): the /e (eval) modifier and the evaluated replacement are hidden from the reader."
        family = "php_code_exec"
        severity = "high"
        looks_for = "preg_replace(base64_decode('L2EvZQ=='), base64_decode('ZXZhbC...'), 'a')"
    strings:
        $a = /\bpreg_replace\s{0,5}\(\s{0,5}@?(base64_decode|str_rot13|strrev|hex2bin|gzinflate|gzuncompress|pack|urldecode)\s{0,5}\(/ nocase
    condition:
        (
            (
                $a
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_stream_wrapper_commands
{
    meta:
        author = "fim project"
        description = "A custom stream wrapper is registered by a class that runs shell commands or evaluates code: a file operation on a made-up scheme (cmd://...) executes commands."
        family = "php_code_exec"
        severity = "high"
        looks_for = "stream_wrapper_register('cmd', 'W'); class W { function stream_open(...) { ... shell_exec(...) } }"
    strings:
        $reg = /stream_wrapper_register\s{0,5}\(/ nocase
        $open = /function\s{1,5}stream_(open|read)\s{0,5}\(/ nocase
        $sink = /(^|[^\w>:$.\\])(system|passthru|shell_exec|exec|eval|assert)\s{0,5}\(/ nocase
        // archive wrappers (7z, gzip) legitimately pipe a fixed program with an escaped path through popen
        $esc = /escapeshell(arg|cmd)|Shell::escape|EscapeShellArg/ nocase
    condition:
        (
            (
                filesize < 64KB and $reg and $open and $sink and not $esc
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_fetched_code_evaluated
{
    meta:
        author = "fim project"
        description = "The script downloads content over HTTP (curl or a URL read) and evaluates a variable: code controlled by a remote server, usually cached to a file and refreshed on a trigger parameter."
        family = "php_code_exec"
        severity = "high"
        looks_for = "$html = curl_exec($ch); ... eval($html); / $c = file_get_contents('http://...'); eval($c);"
    strings:
        $fetch1 = /\bcurl_exec\s{0,5}\(/ nocase
        $fetch2 = /\b(file_get_contents|fopen|file)\s{0,5}\(\s{0,5}['"]https?:\/\//
        $fetch3 = /\bfsockopen\s{0,5}\(/ nocase
        $ev = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)/ nocase
        $cf = /\bcreate_function\s{0,5}\([^;]{0,80}(file_get_contents|curl_exec)\s{0,5}\(/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 128KB and ((any of ($fetch*) and $ev) or $cf) and not $lic
            ) and fim_php_code_exec_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_code_exec_eval_variable_tiny_script
{
    meta:
        author = "fim project"
        description = "A tiny script that reads request input (often through a small helper reading a cookie or POST field) evaluates a variable: a compact backdoor whose input never reaches eval() by name."
        family = "php_code_exec"
        severity = "high"
        looks_for = "function g($k) { return $_COOKIE[$k]; } $c = g('a') . g('b'); @eval($c);"
    strings:
        $ev = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)/ nocase
    condition:
        (
            (
                filesize < 1KB and $ev and fim_php_code_exec_request_input
            ) and fim_php_code_exec_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_code_exec_socket_fed_eval
{
    meta:
        author = "fim project"
        description = "Code read from a network socket is evaluated (socket_read/fread from a socket, then eval): a reverse stager that pulls its payload from the attacker's listener."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "$s = socket_create(...); socket_connect($s, $ip, $port); $len = socket_read($s, 4); $b = socket_read($s, $len); eval($b);"
    strings:
        $sock = /\b(socket_create|fsockopen|pfsockopen|stream_socket_client)\s{0,5}\(/ nocase
        $read = /\b(socket_read|socket_recv|fread|stream_get_contents|fgets)\s{0,5}\(/ nocase
        $ev = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\)/ nocase
    condition:
        (
            (
                filesize < 16KB and $sock and $read and $ev
            )
            // comments: skip the stored bytes when a comment-stripped view of them is matched too
            and not has_code_view
        ) and fim_php_code_exec_not_asset
}

rule fim_php_code_exec_doc_comment_payload
{
    meta:
        author = "fim project"
        description = "Code is read back from a doc comment through reflection (ReflectionClass/ReflectionFunction::getDocComment) and evaluated or called: the payload hides in a comment, where scanners that skip comments do not look."
        family = "php_code_exec"
        severity = "high"
        looks_for = "/** eval($_GET['c']); */ class T {} $r = new ReflectionClass('T'); eval(substr($r->getDocComment(), 3, -2));"
    strings:
        $doc = /->\s{0,3}getDocComment\s{0,3}\(/ nocase
        $new = /new\s{1,5}Reflection(Class|Function|Method|Property)\s{0,3}\(/ nocase
        $sink = /(^|[^\w>:$.\\])(eval|assert|create_function)\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize < 16KB and $doc and $new and $sink
            )
            // comments: skip the stored bytes when a comment-stripped view of them is matched too
            and not has_code_view
        ) and fim_php_code_exec_not_asset
}

rule fim_php_code_exec_merged_request_evaluated
{
    meta:
        author = "fim project"
        description = "Request arrays are merged or stored in an array (array_merge($_COOKIE, $_POST); $a['k'] = $_POST) and a variable or array element is evaluated: a backdoor that takes its code from whichever of cookie or body carries it."
        family = "php_code_exec"
        severity = "critical"
        looks_for = "foreach (array_merge($_COOKIE, $_POST) as $k => $v) { ... eval($v); }; $g['x'] = $_POST; ... eval($d['d']);"
    strings:
        $merge = /array_merge\s{0,3}\(\s{0,3}\$_(COOKIE|POST|GET|REQUEST)\s{0,3},\s{0,3}\$_(COOKIE|POST|GET|REQUEST)\b/ nocase
        $store = /\[\s{0,3}['"][\w\x7f-\xff]{1,20}['"]\s{0,3}\]\s{0,3}=\s{0,3}\$_(POST|COOKIE|GET|REQUEST)\s{0,3};/
        $ev = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}(\)|\[)/ nocase
        $vc = /(^|[^\w>:$.\\])(eval|assert)\s{0,5}\(\s{0,5}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\[[^\]\n]{1,10}\]\s{0,3}\(/ nocase
    condition:
        (
            filesize < 64KB and ($merge or #store >= 2) and ($ev or $vc) and not has_code_view
        ) and fim_php_code_exec_not_asset
}
