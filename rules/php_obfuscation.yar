import "math"

/*
 * php_obfuscation: PHP code that hides what it does - encoded payloads that
 * are decoded and evaluated, chains of decoders, function names assembled
 * from fragments, escaped or encoded function names, chr() chains,
 * variable-variables used as functions, goto spaghetti.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_php_obfuscation_code_sink
{
    meta:
        author = "fim project"
        description = "Helper: the file contains a construct that runs PHP code from a string"
        family = "php_obfuscation"
        severity = "low"
        looks_for = "eval(, assert(, create_function(, preg_replace /e"
    strings:
        $eval = /(^|[^\w>:$.\\])(eval|assert)\s{0,10}\(/ nocase
        $cf = /\bcreate_function\s{0,10}\(/ nocase
        $pe = /\b(preg_replace|preg_filter)\s{0,10}\(\s{0,10}['"][^'"\n]{1,200}[\/#~@!|%+}\])][a-df-zA-DF-Z]{0,6}e[a-zA-Z]{0,6}['"]\s{0,10},/ nocase
    condition:
        any of them
}

private rule fim_php_obfuscation_variable_call
{
    meta:
        author = "fim project"
        description = "Helper: the file calls a function through a variable ($f(...), $$f(...), ${..}(...), $GLOBALS[..](...))"
        family = "php_obfuscation"
        severity = "low"
        looks_for = "$f($x), $f('x'), $f(), ${'a'}(), $GLOBALS['x']()"
    strings:
        $c1 = /(^|[^\w>:$.\\])\$\$?[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\$/
        $c2 = /(^|[^\w>:$.\\])\$\$?[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\( \$/
        $c3 = /(^|[^\w>:$.\\])\$\$?[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(@\$/
        $c4 = /(^|[^\w>:$.\\])\$\$?[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\x27/
        $c5 = /(^|[^\w>:$.\\])\$\$?[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\("/
        $c6 = /(^|[^\w>:$.\\])\$\$?[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\)/
        $c7 = /\$\{[^}\n]{1,40}\}\s{0,5}\(/
        $c8 = /\$GLOBALS\s{0,3}(\[[^\]\n]{1,60}\]\s{0,3}){1,3}\(/
    condition:
        any of them
}

private rule fim_php_obfuscation_phar_stub
{
    meta:
        author = "fim project"
        description = "Helper: the file is a PHP archive whose stub maps itself with Phar::mapPhar and ends with __HALT_COMPILER"
        family = "php_obfuscation"
        severity = "low"
        looks_for = "Phar::mapPhar(...) ... __HALT_COMPILER();"
    strings:
        $map = /Phar::(mapPhar|webPhar|interceptFileFuncs)\s{0,5}\(/
        $halt = "__HALT_COMPILER();"
    condition:
        $map and $halt
}

private rule fim_php_obfuscation_request_input
{
    meta:
        author = "fim project"
        description = "Helper: the file reads HTTP request input"
        family = "php_obfuscation"
        severity = "low"
        looks_for = "superglobals, php://input, request headers"
    strings:
        $g = /\$_(GET|POST|REQUEST|COOKIE|FILES)\b/
        $s = /\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_/
        $i = "php://input" nocase
        $h = /(getallheaders|apache_request_headers)\s{0,5}\(/ nocase
    condition:
        any of them
}

private rule fim_php_obfuscation_encoder_stub
{
    meta:
        author = "fim project"
        description = "Helper: the loader stub of a commercial PHP encoder (ionCube, SourceGuardian) that runs an encoded application file"
        family = "php_obfuscation"
        severity = "low"
        looks_for = "extension_loaded('ionCube Loader') ... _il_exec(); return sg_load('...')"
    strings:
        $ic1 = "ionCube Loader" nocase
        $ic2 = /_il_exec\s{0,3}\(/
        $sg1 = /sg_load\s{0,3}\(\s{0,3}['"]/
        $sg2 = "SourceGuardian" nocase
    condition:
        filesize < 4MB and (($ic1 and $ic2) or ($sg1 and $sg2))
}

private rule fim_php_obfuscation_vendor_encoded
{
    meta:
        author = "fim project"
        description = "Helper: a file with a vendor header (package, copyright, licence) whose only code-running construct is one eval of a decoded literal, with no request input and no calls through variables"
        family = "php_obfuscation"
        severity = "low"
        looks_for = "/** @package X  Copyright (c) Vendor */ eval(base64_decode('...'));"
    strings:
        $hdr = /@package\b|@copyright\b|Copyright\s{1,3}(\(c\)|\xc2\xa9|\d{4})|All rights reserved|licen[cs]ed? (to|under|key)|encoded by|protected by/ nocase
        $lit = /(^|[^\w>:$.\\])(eval|assert)\s{0,10}\(\s{0,10}@?((gzinflate|gzuncompress|gzdecode|str_rot13|strrev|base64_decode|convert_uudecode)\s{0,10}\(\s{0,10}){1,4}['"][A-Za-z0-9+\/=\r\n]{100}/ nocase
        $any = /(^|[^\w>:$.\\])(eval|assert|create_function)\s{0,10}\(/ nocase
    condition:
        $hdr in (0..2048) and $lit and #any == 1
        and not fim_php_obfuscation_request_input and not fim_php_obfuscation_variable_call
}

private rule fim_php_obfuscation_not_asset
{
    meta:
        author = "fim project"
        description = "Helper: the file is not a static asset or document (JavaScript/CSS/JSON/Markdown), where PHP syntax shows up as editor snippets or keyword lists"
        family = "php_obfuscation"
        severity = "low"
        looks_for = "extension not in .js .css .json .md .map"
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
             or extension == ".pot" or extension == ".ttf" or extension == ".otf" or extension == ".woff"
             or extension == ".woff2" or extension == ".eot")
        // a .phar archive of a developer tool (composer.phar...) packs whole libraries behind its stub
        and not (extension == ".phar" and fim_php_obfuscation_phar_stub)
        // code encoded by its vendor is reported once, as low "encoded code" (fim_php_obfuscation_encoded_code)
        and not fim_php_obfuscation_encoder_stub and not fim_php_obfuscation_vendor_encoded
        and not ($testcase and filename matches /Test\.php$/ and filepath matches /\/tests?\//i)
        and not (extension == ".txt" and not ($tag0 in (0..16) or $tagline))
        // archives (backups, plugin packages) hold PHP sources as members; they are listed, never run
        and not ((filetype == "ZIP" or filetype == "GZIP") and not extension matches /^\.(php\d?|phtml|pht|inc)$/)
}


rule fim_php_obfuscation_eval_of_decoded_string
{
    meta:
        author = "fim project"
        description = "eval()/assert() runs the output of a decoder or of a variable function (base64_decode, gzinflate, str_rot13, strrev, hex2bin, $f(...)...): the executed code is hidden from the reader."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "eval(base64_decode(...)), eval(gzinflate(...)), eval($f(...))"
    strings:
        $a = /(^|[^\w>:$.\\])eval\s{0,10}\(\s{0,10}(['"]\?>['"]\s{0,5}\.\s{0,5})?@?(gzinflate|gzuncompress|gzdecode|zlib_decode|bzdecompress|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin|pack|rawurldecode|urldecode|stripslashes|htmlspecialchars_decode|html_entity_decode|strtr|str_replace|implode|join|\$\$?[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}|\$\{[^}\n]{1,40}\})\s{0,10}\(/ nocase
        // assert() of a variable function is how frameworks write assertions: only decoders count there
        $s = /(^|[^\w>:$.\\])assert\s{0,10}\(\s{0,10}@?(gzinflate|gzuncompress|gzdecode|zlib_decode|bzdecompress|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin|rawurldecode|urldecode)\s{0,10}\(/ nocase
    condition:
        (
            (
                $a or $s
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_eval_of_decoder_chain
{
    meta:
        author = "fim project"
        description = "eval()/assert() of a chain of two or more decoders (e.g. eval(gzinflate(base64_decode(...)))): a packed PHP payload, the typical wrapper of distributed webshells."
        family = "php_obfuscation"
        severity = "critical"
        looks_for = "eval(gzinflate(base64_decode(, eval(str_rot13(gzuncompress(base64_decode( ..."
    strings:
        $a = /(^|[^\w>:$.\\])(eval|assert)\s{0,10}\(\s{0,10}(['"]\?>['"]\s{0,5}\.\s{0,5})?@?(gzinflate|gzuncompress|gzdecode|zlib_decode|bzdecompress|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin|rawurldecode|urldecode|stripslashes|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30})\s{0,10}\(\s{0,10}@?(gzinflate|gzuncompress|gzdecode|zlib_decode|bzdecompress|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin|rawurldecode|urldecode|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30})\s{0,10}\(/ nocase
    condition:
        (
            (
                $a
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_decoder_chain
{
    meta:
        author = "fim project"
        description = "Nested decoders (gzinflate(base64_decode(...)), str_rot13(strrev(...))...) in a file that also evaluates code or calls functions through variables: a packed payload that is unpacked and run."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "gzinflate/gzuncompress/gzdecode/str_rot13/strrev/base64_decode/convert_uudecode nested + eval or $f()"
    strings:
        $a = /\b(gzinflate|gzuncompress|gzdecode|zlib_decode|bzdecompress|str_rot13|strrev|base64_decode|convert_uudecode)\s{0,10}\(\s{0,10}@?(gzinflate|gzuncompress|gzdecode|zlib_decode|bzdecompress|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin)\s{0,10}\(/ nocase
    condition:
        (
            (
                $a and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_long_encoded_blob_with_sink
{
    meta:
        author = "fim project"
        description = "A long base64/hex-escaped literal is decoded in a file that also evaluates code: an embedded encoded program."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "base64_decode('<400+ base64 chars>') or a \"\\x..\" string of 60+ escapes, plus eval/assert/create_function"
    strings:
        $b64 = /(base64_decode|str_rot13|strrev|gzinflate|gzuncompress|convert_uudecode)\s{0,10}\(\s{0,10}['"][A-Za-z0-9+\/=\r\n]{400}/ nocase
        $hex = /(\\x[0-9a-fA-F]{2}){60}/
    condition:
        (
            (
                any of them and fim_php_obfuscation_code_sink
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_escaped_function_name
{
    meta:
        author = "fim project"
        description = "The name of a dangerous function or superglobal (system, eval, assert, base64_decode, _POST...) is written with \\x hex or octal escapes so that it does not appear in clear text."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "\"\\x73\\x79\\x73\\x74\\x65\\x6d\" (system), \"\\145\\166\\141\\154\" (eval) ..."
    strings:
        $hex_eval = "\\x65\\x76\\x61\\x6c" nocase
        $oct_eval = "\\145\\166\\141\\154"
        $hex_assert = "\\x61\\x73\\x73\\x65\\x72\\x74" nocase
        $oct_assert = "\\141\\163\\163\\145\\162\\164"
        $hex_system = "\\x73\\x79\\x73\\x74\\x65\\x6d" nocase
        $oct_system = "\\163\\171\\163\\164\\145\\155"
        $hex_exec = "\\x65\\x78\\x65\\x63" nocase
        $oct_exec = "\\145\\170\\145\\143"
        $hex_passthru = "\\x70\\x61\\x73\\x73\\x74\\x68\\x72\\x75" nocase
        $oct_passthru = "\\160\\141\\163\\163\\164\\150\\162\\165"
        $hex_shell_exec = "\\x73\\x68\\x65\\x6c\\x6c\\x5f\\x65\\x78\\x65\\x63" nocase
        $oct_shell_exec = "\\163\\150\\145\\154\\154\\137\\145\\170\\145\\143"
        $hex_popen = "\\x70\\x6f\\x70\\x65\\x6e" nocase
        $oct_popen = "\\160\\157\\160\\145\\156"
        $hex_proc_open = "\\x70\\x72\\x6f\\x63\\x5f\\x6f\\x70\\x65\\x6e" nocase
        $oct_proc_open = "\\160\\162\\157\\143\\137\\157\\160\\145\\156"
        $hex_base64_decode = "\\x62\\x61\\x73\\x65\\x36\\x34\\x5f\\x64\\x65\\x63\\x6f\\x64\\x65" nocase
        $oct_base64_decode = "\\142\\141\\163\\145\\066\\064\\137\\144\\145\\143\\157\\144\\145"
        $hex_gzinflate = "\\x67\\x7a\\x69\\x6e\\x66\\x6c\\x61\\x74\\x65" nocase
        $oct_gzinflate = "\\147\\172\\151\\156\\146\\154\\141\\164\\145"
        $hex_gzuncompress = "\\x67\\x7a\\x75\\x6e\\x63\\x6f\\x6d\\x70\\x72\\x65\\x73\\x73" nocase
        $oct_gzuncompress = "\\147\\172\\165\\156\\143\\157\\155\\160\\162\\145\\163\\163"
        $hex_str_rot13 = "\\x73\\x74\\x72\\x5f\\x72\\x6f\\x74\\x31\\x33" nocase
        $oct_str_rot13 = "\\163\\164\\162\\137\\162\\157\\164\\061\\063"
        $hex_create_function = "\\x63\\x72\\x65\\x61\\x74\\x65\\x5f\\x66\\x75\\x6e\\x63\\x74\\x69\\x6f\\x6e" nocase
        $oct_create_function = "\\143\\162\\145\\141\\164\\145\\137\\146\\165\\156\\143\\164\\151\\157\\156"
        $hex_call_user_func = "\\x63\\x61\\x6c\\x6c\\x5f\\x75\\x73\\x65\\x72\\x5f\\x66\\x75\\x6e\\x63" nocase
        $oct_call_user_func = "\\143\\141\\154\\154\\137\\165\\163\\145\\162\\137\\146\\165\\156\\143"
        $hex_preg_replace = "\\x70\\x72\\x65\\x67\\x5f\\x72\\x65\\x70\\x6c\\x61\\x63\\x65" nocase
        $oct_preg_replace = "\\160\\162\\145\\147\\137\\162\\145\\160\\154\\141\\143\\145"
        $hex_file_put_contents = "\\x66\\x69\\x6c\\x65\\x5f\\x70\\x75\\x74\\x5f\\x63\\x6f\\x6e\\x74\\x65\\x6e\\x74\\x73" nocase
        $oct_file_put_contents = "\\146\\151\\154\\145\\137\\160\\165\\164\\137\\143\\157\\156\\164\\145\\156\\164\\163"
        $hex_move_uploaded_file = "\\x6d\\x6f\\x76\\x65\\x5f\\x75\\x70\\x6c\\x6f\\x61\\x64\\x65\\x64\\x5f\\x66\\x69\\x6c\\x65" nocase
        $oct_move_uploaded_file = "\\155\\157\\166\\145\\137\\165\\160\\154\\157\\141\\144\\145\\144\\137\\146\\151\\154\\145"
        $hex_post = "\\x5f\\x50\\x4f\\x53\\x54" nocase
        $oct_post = "\\137\\120\\117\\123\\124"
        $hex_get = "\\x5f\\x47\\x45\\x54" nocase
        $oct_get = "\\137\\107\\105\\124"
        $hex_request = "\\x5f\\x52\\x45\\x51\\x55\\x45\\x53\\x54" nocase
        $oct_request = "\\137\\122\\105\\121\\125\\105\\123\\124"
        $hex_cookie = "\\x5f\\x43\\x4f\\x4f\\x4b\\x49\\x45" nocase
        $oct_cookie = "\\137\\103\\117\\117\\113\\111\\105"
        $hex_globals = "\\x47\\x4c\\x4f\\x42\\x41\\x4c\\x53" nocase
        $oct_globals = "\\107\\114\\117\\102\\101\\114\\123"
    condition:
        (
            (
                any of them
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_split_function_name
{
    meta:
        author = "fim project"
        description = "The name of a dangerous function or superglobal is assembled by concatenating string fragments ('as'.'sert', \"ba\".\"se64_decode\", '_P'.'OST') to evade scanners."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "'sy'.'stem', 'as'.'sert', 'base'.'64_decode', '_'.'POST' ..."
    strings:
        $split_assert = /['"](a['\"]\s{0,3}\.\s{0,3}['\"]ssert|as['\"]\s{0,3}\.\s{0,3}['\"]sert|ass['\"]\s{0,3}\.\s{0,3}['\"]ert|asse['\"]\s{0,3}\.\s{0,3}['\"]rt|asser['\"]\s{0,3}\.\s{0,3}['\"]t|a['\"]\s{0,3}\.\s{0,3}['\"]s['\"]\s{0,3}\.\s{0,3}['\"]sert|a['\"]\s{0,3}\.\s{0,3}['\"]ss['\"]\s{0,3}\.\s{0,3}['\"]ert|a['\"]\s{0,3}\.\s{0,3}['\"]sse['\"]\s{0,3}\.\s{0,3}['\"]rt|a['\"]\s{0,3}\.\s{0,3}['\"]sser['\"]\s{0,3}\.\s{0,3}['\"]t|as['\"]\s{0,3}\.\s{0,3}['\"]s['\"]\s{0,3}\.\s{0,3}['\"]ert|as['\"]\s{0,3}\.\s{0,3}['\"]se['\"]\s{0,3}\.\s{0,3}['\"]rt|as['\"]\s{0,3}\.\s{0,3}['\"]ser['\"]\s{0,3}\.\s{0,3}['\"]t|ass['\"]\s{0,3}\.\s{0,3}['\"]e['\"]\s{0,3}\.\s{0,3}['\"]rt|ass['\"]\s{0,3}\.\s{0,3}['\"]er['\"]\s{0,3}\.\s{0,3}['\"]t|asse['\"]\s{0,3}\.\s{0,3}['\"]r['\"]\s{0,3}\.\s{0,3}['\"]t)['"]/ nocase
        $split_system = /['"](s['\"]\s{0,3}\.\s{0,3}['\"]ystem|sy['\"]\s{0,3}\.\s{0,3}['\"]stem|sys['\"]\s{0,3}\.\s{0,3}['\"]tem|syst['\"]\s{0,3}\.\s{0,3}['\"]em|syste['\"]\s{0,3}\.\s{0,3}['\"]m|s['\"]\s{0,3}\.\s{0,3}['\"]y['\"]\s{0,3}\.\s{0,3}['\"]stem|s['\"]\s{0,3}\.\s{0,3}['\"]ys['\"]\s{0,3}\.\s{0,3}['\"]tem|s['\"]\s{0,3}\.\s{0,3}['\"]yst['\"]\s{0,3}\.\s{0,3}['\"]em|s['\"]\s{0,3}\.\s{0,3}['\"]yste['\"]\s{0,3}\.\s{0,3}['\"]m|sy['\"]\s{0,3}\.\s{0,3}['\"]s['\"]\s{0,3}\.\s{0,3}['\"]tem|sy['\"]\s{0,3}\.\s{0,3}['\"]st['\"]\s{0,3}\.\s{0,3}['\"]em|sy['\"]\s{0,3}\.\s{0,3}['\"]ste['\"]\s{0,3}\.\s{0,3}['\"]m|sys['\"]\s{0,3}\.\s{0,3}['\"]t['\"]\s{0,3}\.\s{0,3}['\"]em|sys['\"]\s{0,3}\.\s{0,3}['\"]te['\"]\s{0,3}\.\s{0,3}['\"]m|syst['\"]\s{0,3}\.\s{0,3}['\"]e['\"]\s{0,3}\.\s{0,3}['\"]m)['"]/ nocase
        $split_eval = /['"](e['\"]\s{0,3}\.\s{0,3}['\"]val|ev['\"]\s{0,3}\.\s{0,3}['\"]al|eva['\"]\s{0,3}\.\s{0,3}['\"]l|e['\"]\s{0,3}\.\s{0,3}['\"]v['\"]\s{0,3}\.\s{0,3}['\"]al|e['\"]\s{0,3}\.\s{0,3}['\"]va['\"]\s{0,3}\.\s{0,3}['\"]l|ev['\"]\s{0,3}\.\s{0,3}['\"]a['\"]\s{0,3}\.\s{0,3}['\"]l)['"]/ nocase
        $split_exec = /['"](e['\"]\s{0,3}\.\s{0,3}['\"]xec|ex['\"]\s{0,3}\.\s{0,3}['\"]ec|exe['\"]\s{0,3}\.\s{0,3}['\"]c|e['\"]\s{0,3}\.\s{0,3}['\"]x['\"]\s{0,3}\.\s{0,3}['\"]ec|e['\"]\s{0,3}\.\s{0,3}['\"]xe['\"]\s{0,3}\.\s{0,3}['\"]c|ex['\"]\s{0,3}\.\s{0,3}['\"]e['\"]\s{0,3}\.\s{0,3}['\"]c)['"]/ nocase
        $split_passthru = /['"](p['\"]\s{0,3}\.\s{0,3}['\"]assthru|pa['\"]\s{0,3}\.\s{0,3}['\"]ssthru|pas['\"]\s{0,3}\.\s{0,3}['\"]sthru|pass['\"]\s{0,3}\.\s{0,3}['\"]thru|passt['\"]\s{0,3}\.\s{0,3}['\"]hru|passth['\"]\s{0,3}\.\s{0,3}['\"]ru|passthr['\"]\s{0,3}\.\s{0,3}['\"]u)['"]/ nocase
        $split_shell_exec = /['"](s['\"]\s{0,3}\.\s{0,3}['\"]hell_exec|sh['\"]\s{0,3}\.\s{0,3}['\"]ell_exec|she['\"]\s{0,3}\.\s{0,3}['\"]ll_exec|shel['\"]\s{0,3}\.\s{0,3}['\"]l_exec|shell['\"]\s{0,3}\.\s{0,3}['\"]_exec|shell_['\"]\s{0,3}\.\s{0,3}['\"]exec|shell_e['\"]\s{0,3}\.\s{0,3}['\"]xec|shell_ex['\"]\s{0,3}\.\s{0,3}['\"]ec|shell_exe['\"]\s{0,3}\.\s{0,3}['\"]c)['"]/ nocase
        $split_base64_decode = /['"](b['\"]\s{0,3}\.\s{0,3}['\"]ase64_decode|ba['\"]\s{0,3}\.\s{0,3}['\"]se64_decode|bas['\"]\s{0,3}\.\s{0,3}['\"]e64_decode|base['\"]\s{0,3}\.\s{0,3}['\"]64_decode|base6['\"]\s{0,3}\.\s{0,3}['\"]4_decode|base64['\"]\s{0,3}\.\s{0,3}['\"]_decode|base64_['\"]\s{0,3}\.\s{0,3}['\"]decode|base64_d['\"]\s{0,3}\.\s{0,3}['\"]ecode|base64_de['\"]\s{0,3}\.\s{0,3}['\"]code|base64_dec['\"]\s{0,3}\.\s{0,3}['\"]ode|base64_deco['\"]\s{0,3}\.\s{0,3}['\"]de|base64_decod['\"]\s{0,3}\.\s{0,3}['\"]e)['"]/ nocase
        $split_gzinflate = /['"](g['\"]\s{0,3}\.\s{0,3}['\"]zinflate|gz['\"]\s{0,3}\.\s{0,3}['\"]inflate|gzi['\"]\s{0,3}\.\s{0,3}['\"]nflate|gzin['\"]\s{0,3}\.\s{0,3}['\"]flate|gzinf['\"]\s{0,3}\.\s{0,3}['\"]late|gzinfl['\"]\s{0,3}\.\s{0,3}['\"]ate|gzinfla['\"]\s{0,3}\.\s{0,3}['\"]te|gzinflat['\"]\s{0,3}\.\s{0,3}['\"]e)['"]/ nocase
        $split_gzuncompress = /['"](g['\"]\s{0,3}\.\s{0,3}['\"]zuncompress|gz['\"]\s{0,3}\.\s{0,3}['\"]uncompress|gzu['\"]\s{0,3}\.\s{0,3}['\"]ncompress|gzun['\"]\s{0,3}\.\s{0,3}['\"]compress|gzunc['\"]\s{0,3}\.\s{0,3}['\"]ompress|gzunco['\"]\s{0,3}\.\s{0,3}['\"]mpress|gzuncom['\"]\s{0,3}\.\s{0,3}['\"]press|gzuncomp['\"]\s{0,3}\.\s{0,3}['\"]ress|gzuncompr['\"]\s{0,3}\.\s{0,3}['\"]ess|gzuncompre['\"]\s{0,3}\.\s{0,3}['\"]ss|gzuncompres['\"]\s{0,3}\.\s{0,3}['\"]s)['"]/ nocase
        $split_str_rot13 = /['"](s['\"]\s{0,3}\.\s{0,3}['\"]tr_rot13|st['\"]\s{0,3}\.\s{0,3}['\"]r_rot13|str['\"]\s{0,3}\.\s{0,3}['\"]_rot13|str_['\"]\s{0,3}\.\s{0,3}['\"]rot13|str_r['\"]\s{0,3}\.\s{0,3}['\"]ot13|str_ro['\"]\s{0,3}\.\s{0,3}['\"]t13|str_rot['\"]\s{0,3}\.\s{0,3}['\"]13|str_rot1['\"]\s{0,3}\.\s{0,3}['\"]3)['"]/ nocase
        $split_create_function = /['"](c['\"]\s{0,3}\.\s{0,3}['\"]reate_function|cr['\"]\s{0,3}\.\s{0,3}['\"]eate_function|cre['\"]\s{0,3}\.\s{0,3}['\"]ate_function|crea['\"]\s{0,3}\.\s{0,3}['\"]te_function|creat['\"]\s{0,3}\.\s{0,3}['\"]e_function|create['\"]\s{0,3}\.\s{0,3}['\"]_function|create_['\"]\s{0,3}\.\s{0,3}['\"]function|create_f['\"]\s{0,3}\.\s{0,3}['\"]unction|create_fu['\"]\s{0,3}\.\s{0,3}['\"]nction|create_fun['\"]\s{0,3}\.\s{0,3}['\"]ction|create_func['\"]\s{0,3}\.\s{0,3}['\"]tion|create_funct['\"]\s{0,3}\.\s{0,3}['\"]ion|create_functi['\"]\s{0,3}\.\s{0,3}['\"]on|create_functio['\"]\s{0,3}\.\s{0,3}['\"]n)['"]/ nocase
        $split_call_user_func = /['"](c['\"]\s{0,3}\.\s{0,3}['\"]all_user_func|ca['\"]\s{0,3}\.\s{0,3}['\"]ll_user_func|cal['\"]\s{0,3}\.\s{0,3}['\"]l_user_func|call['\"]\s{0,3}\.\s{0,3}['\"]_user_func|call_['\"]\s{0,3}\.\s{0,3}['\"]user_func|call_u['\"]\s{0,3}\.\s{0,3}['\"]ser_func|call_us['\"]\s{0,3}\.\s{0,3}['\"]er_func|call_use['\"]\s{0,3}\.\s{0,3}['\"]r_func|call_user['\"]\s{0,3}\.\s{0,3}['\"]_func|call_user_['\"]\s{0,3}\.\s{0,3}['\"]func|call_user_f['\"]\s{0,3}\.\s{0,3}['\"]unc|call_user_fu['\"]\s{0,3}\.\s{0,3}['\"]nc|call_user_fun['\"]\s{0,3}\.\s{0,3}['\"]c)['"]/ nocase
        $split_preg_replace = /['"](p['\"]\s{0,3}\.\s{0,3}['\"]reg_replace|pr['\"]\s{0,3}\.\s{0,3}['\"]eg_replace|pre['\"]\s{0,3}\.\s{0,3}['\"]g_replace|preg['\"]\s{0,3}\.\s{0,3}['\"]_replace|preg_['\"]\s{0,3}\.\s{0,3}['\"]replace|preg_r['\"]\s{0,3}\.\s{0,3}['\"]eplace|preg_re['\"]\s{0,3}\.\s{0,3}['\"]place|preg_rep['\"]\s{0,3}\.\s{0,3}['\"]lace|preg_repl['\"]\s{0,3}\.\s{0,3}['\"]ace|preg_repla['\"]\s{0,3}\.\s{0,3}['\"]ce|preg_replac['\"]\s{0,3}\.\s{0,3}['\"]e)['"]/ nocase
        $split_post = /['"](_['\"]\s{0,3}\.\s{0,3}['\"]POST|_P['\"]\s{0,3}\.\s{0,3}['\"]OST|_PO['\"]\s{0,3}\.\s{0,3}['\"]ST|_POS['\"]\s{0,3}\.\s{0,3}['\"]T|_['\"]\s{0,3}\.\s{0,3}['\"]P['\"]\s{0,3}\.\s{0,3}['\"]OST|_['\"]\s{0,3}\.\s{0,3}['\"]PO['\"]\s{0,3}\.\s{0,3}['\"]ST|_['\"]\s{0,3}\.\s{0,3}['\"]POS['\"]\s{0,3}\.\s{0,3}['\"]T|_P['\"]\s{0,3}\.\s{0,3}['\"]O['\"]\s{0,3}\.\s{0,3}['\"]ST|_P['\"]\s{0,3}\.\s{0,3}['\"]OS['\"]\s{0,3}\.\s{0,3}['\"]T|_PO['\"]\s{0,3}\.\s{0,3}['\"]S['\"]\s{0,3}\.\s{0,3}['\"]T)['"]/ nocase
        $split_get = /['"](_['\"]\s{0,3}\.\s{0,3}['\"]GET|_G['\"]\s{0,3}\.\s{0,3}['\"]ET|_GE['\"]\s{0,3}\.\s{0,3}['\"]T|_['\"]\s{0,3}\.\s{0,3}['\"]G['\"]\s{0,3}\.\s{0,3}['\"]ET|_['\"]\s{0,3}\.\s{0,3}['\"]GE['\"]\s{0,3}\.\s{0,3}['\"]T|_G['\"]\s{0,3}\.\s{0,3}['\"]E['\"]\s{0,3}\.\s{0,3}['\"]T)['"]/ nocase
        $split_request = /['"](_['\"]\s{0,3}\.\s{0,3}['\"]REQUEST|_R['\"]\s{0,3}\.\s{0,3}['\"]EQUEST|_RE['\"]\s{0,3}\.\s{0,3}['\"]QUEST|_REQ['\"]\s{0,3}\.\s{0,3}['\"]UEST|_REQU['\"]\s{0,3}\.\s{0,3}['\"]EST|_REQUE['\"]\s{0,3}\.\s{0,3}['\"]ST|_REQUES['\"]\s{0,3}\.\s{0,3}['\"]T)['"]/ nocase
        $split_cookie = /['"](_['\"]\s{0,3}\.\s{0,3}['\"]COOKIE|_C['\"]\s{0,3}\.\s{0,3}['\"]OOKIE|_CO['\"]\s{0,3}\.\s{0,3}['\"]OKIE|_COO['\"]\s{0,3}\.\s{0,3}['\"]KIE|_COOK['\"]\s{0,3}\.\s{0,3}['\"]IE|_COOKI['\"]\s{0,3}\.\s{0,3}['\"]E)['"]/ nocase
        $split_proc_open = /['"](p['\"]\s{0,3}\.\s{0,3}['\"]roc_open|pr['\"]\s{0,3}\.\s{0,3}['\"]oc_open|pro['\"]\s{0,3}\.\s{0,3}['\"]c_open|proc['\"]\s{0,3}\.\s{0,3}['\"]_open|proc_['\"]\s{0,3}\.\s{0,3}['\"]open|proc_o['\"]\s{0,3}\.\s{0,3}['\"]pen|proc_op['\"]\s{0,3}\.\s{0,3}['\"]en|proc_ope['\"]\s{0,3}\.\s{0,3}['\"]n)['"]/ nocase
        $split_popen = /['"](p['\"]\s{0,3}\.\s{0,3}['\"]open|po['\"]\s{0,3}\.\s{0,3}['\"]pen|pop['\"]\s{0,3}\.\s{0,3}['\"]en|pope['\"]\s{0,3}\.\s{0,3}['\"]n|p['\"]\s{0,3}\.\s{0,3}['\"]o['\"]\s{0,3}\.\s{0,3}['\"]pen|p['\"]\s{0,3}\.\s{0,3}['\"]op['\"]\s{0,3}\.\s{0,3}['\"]en|p['\"]\s{0,3}\.\s{0,3}['\"]ope['\"]\s{0,3}\.\s{0,3}['\"]n|po['\"]\s{0,3}\.\s{0,3}['\"]p['\"]\s{0,3}\.\s{0,3}['\"]en|po['\"]\s{0,3}\.\s{0,3}['\"]pe['\"]\s{0,3}\.\s{0,3}['\"]n|pop['\"]\s{0,3}\.\s{0,3}['\"]e['\"]\s{0,3}\.\s{0,3}['\"]n)['"]/ nocase
        $split_file_put_contents = /['"](f['\"]\s{0,3}\.\s{0,3}['\"]ile_put_contents|fi['\"]\s{0,3}\.\s{0,3}['\"]le_put_contents|fil['\"]\s{0,3}\.\s{0,3}['\"]e_put_contents|file['\"]\s{0,3}\.\s{0,3}['\"]_put_contents|file_['\"]\s{0,3}\.\s{0,3}['\"]put_contents|file_p['\"]\s{0,3}\.\s{0,3}['\"]ut_contents|file_pu['\"]\s{0,3}\.\s{0,3}['\"]t_contents|file_put['\"]\s{0,3}\.\s{0,3}['\"]_contents|file_put_['\"]\s{0,3}\.\s{0,3}['\"]contents|file_put_c['\"]\s{0,3}\.\s{0,3}['\"]ontents|file_put_co['\"]\s{0,3}\.\s{0,3}['\"]ntents|file_put_con['\"]\s{0,3}\.\s{0,3}['\"]tents|file_put_cont['\"]\s{0,3}\.\s{0,3}['\"]ents|file_put_conte['\"]\s{0,3}\.\s{0,3}['\"]nts|file_put_conten['\"]\s{0,3}\.\s{0,3}['\"]ts|file_put_content['\"]\s{0,3}\.\s{0,3}['\"]s)['"]/ nocase
    condition:
        (
            (
                any of them
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_encoded_function_name
{
    meta:
        author = "fim project"
        description = "A dangerous function name is recovered at run time from a reversed, ROT13 or base64 form (strrev('tressa'), str_rot13('riny'), base64_decode('c3lzdGVt'))."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "strrev/str_rot13/base64_decode applied to an encoded function name"
    strings:
        $rev = /strrev\s{0,5}\(\s{0,5}['"](lave|tressa|metsys|cexe|urhtssap|cexe_llehs|edoced_46esab|etalfnizg|noitcnuf_etaerc|31tor_rts|nepop|nepo_corp|sserpmocnuzg)['"]/ nocase
        $rot = /str_rot13\s{0,5}\(\s{0,5}['"](riny|nffreg|flfgrz|rkrp|cnffgueh|furyy_rkrp|onfr64_qrpbqr|tmvasyngr|perngr_shapgvba|cbcra|cebp_bcra|tmhapbzcerff)['"]/ nocase
        $b64 = /base64_decode\s{0,5}\(\s{0,5}['"](ZXZhbA|YXNzZXJ0|c3lzdGVt|ZXhlYw|cGFzc3RocnU|c2hlbGxfZXhlYw|YmFzZTY0X2RlY29kZQ|Z3ppbmZsYXRl|Y3JlYXRlX2Z1bmN0aW9u|c3RyX3JvdDEz|cG9wZW4|cHJvY19vcGVu|Z3p1bmNvbXByZXNz)/
    condition:
        (
            (
                any of them
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_superglobal_built_from_strings
{
    meta:
        author = "fim project"
        description = "A superglobal is accessed through a variable-variable built from strings (${'_P'.'OST'}, ${\"_GET\"}), hiding the fact that the script reads request input."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "${'_'.'POST'}, ${\"_GET\"}, $GLOBALS['_'.'REQUEST'], $n = '_POST'; $$n"
    strings:
        $a = /\$\{\s{0,5}['"]_[A-Z]{0,7}['"]\s{0,5}\.\s{0,5}['"]/
        $b = /\$\{\s{0,5}['"]_(POST|GET|REQUEST|COOKIE|SERVER|FILES)['"]\s{0,5}\}/
        $c = /\$GLOBALS\s{0,5}\[\s{0,5}['"]_[A-Z]{0,7}['"]\s{0,5}\./
        $d = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=\s{0,5}['"]_(POST|GET|REQUEST|COOKIE|SERVER)['"]\s{0,5};/
        $vv = /\$\$[a-zA-Z_\x7f-\xff]|\$\{\s{0,3}\$|\$GLOBALS\s{0,3}\[\s{0,3}\$/
    condition:
        (
            (
                $a or $b or $c or ($d and $vv)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_chr_chain
{
    meta:
        author = "fim project"
        description = "A string is assembled from a long chain of chr() calls (chr(115).chr(121)...): a way to hide function names or code. High when the file also evaluates code or calls variable functions."
        family = "php_obfuscation"
        severity = "medium"
        looks_for = "chr(NN).chr(NN).chr(NN).chr(NN).chr(NN)"
    strings:
        $a = /chr\s{0,3}\(\s{0,3}(6[5-9]|[7-9]\d|1[01]\d|12[0-2])\s{0,3}\)\s{0,3}\.\s{0,3}chr\s{0,3}\(\s{0,3}(6[5-9]|[7-9]\d|1[01]\d|12[0-2])\s{0,3}\)\s{0,3}\.\s{0,3}chr\s{0,3}\(\s{0,3}(6[5-9]|[7-9]\d|1[01]\d|12[0-2])\s{0,3}\)\s{0,3}\.\s{0,3}chr\s{0,3}\(\s{0,3}(6[5-9]|[7-9]\d|1[01]\d|12[0-2])\s{0,3}\)\s{0,3}\.\s{0,3}chr\s{0,3}\(/ nocase
        $hex = /chr\s{0,3}\(\s{0,3}0x(6[1-9a-f]|7[0-9a])\s{0,3}\)\s{0,3}\.\s{0,3}chr\s{0,3}\(\s{0,3}0x(6[1-9a-f]|7[0-9a])\s{0,3}\)\s{0,3}\.\s{0,3}chr\s{0,3}\(\s{0,3}0x(6[1-9a-f]|7[0-9a])\s{0,3}\)\s{0,3}\.\s{0,3}chr\s{0,3}\(\s{0,3}0x(6[1-9a-f]|7[0-9a])\s{0,3}\)/ nocase
    condition:
        (
            ($a or $hex) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_chr_chain_with_sink
{
    meta:
        author = "fim project"
        description = "A string assembled from a chr() chain in a file that evaluates code or calls functions through variables: hidden function name or payload that gets executed."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "chr(..).chr(..)... + eval/assert/$f()"
    condition:
        (
            (
                fim_php_obfuscation_chr_chain and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_str_replace_function_name
{
    meta:
        author = "fim project"
        description = "A function name is recovered by deleting filler characters from a literal with str_replace (str_replace('x','','cxrxexaxtxe_function')) and then called through a variable: a common webshell agent trick."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "str_replace('<junk>', '', '<letters>') + variable function call"
    strings:
        $a = /str_i?replace\s{0,5}\(\s{0,5}['"][^'"\n]{1,10}['"]\s{0,5},\s{0,5}(''|"")\s{0,5},\s{0,5}['"][a-zA-Z0-9_]{8,80}['"]\s{0,5}\)/ nocase
    condition:
        (
            (
                $a and (fim_php_obfuscation_variable_call or fim_php_obfuscation_code_sink)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_variable_variable_call_with_request
{
    meta:
        author = "fim project"
        description = "A function is called through a variable-variable ($$f(), ${...}(), $GLOBALS[..]()) in a file that reads request input: hidden, request-influenced function call."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$$name(...), ${'x'}(...), $GLOBALS['x'](...) + request input"
    strings:
        $vv = /\$\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}\(/
        $br = /\$\{[^}\n]{1,40}\}\s{0,5}\(/
        $gl = /\$GLOBALS\s{0,3}(\[[^\]\n]{1,60}\]\s{0,3}){1,3}\(/
    condition:
        (
            any of them and fim_php_obfuscation_request_input and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_hex_escaped_letters_with_sink
{
    meta:
        author = "fim project"
        description = "Plain letters written as \\x escapes (a run of 6+ escaped letters) in a file that evaluates code (eval/assert/create_function): hidden function names or code."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "\"\\x61\\x73\\x73...\" + eval/assert/create_function"
    strings:
        $a = /(\\x(4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA])){6}/
    condition:
        (
            (
                $a and fim_php_obfuscation_code_sink
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_create_function_from_decoder
{
    meta:
        author = "fim project"
        description = "create_function() builds a function whose body comes from a decoder or from a variable function call: hidden code execution."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "create_function('', base64_decode(...)), create_function('', $f(...))"
    strings:
        $a = /\bcreate_function\s{0,10}\(\s{0,10}['"][^'"\n]{0,40}['"]\s{0,10},\s{0,10}@?(gzinflate|gzuncompress|gzdecode|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin|urldecode|rawurldecode|\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30})\s{0,10}\(/ nocase
    condition:
        (
            (
                $a
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_goto_spaghetti
{
    meta:
        author = "fim project"
        description = "Dozens of goto jumps: control flow scrambled by a PHP obfuscator. Alone this is only a weak signal (commercial obfuscators do it too)."
        family = "php_obfuscation"
        severity = "low"
        looks_for = "30+ 'goto label;' statements, at least one per 150 bytes"
    strings:
        $g = /\bgoto\s{1,5}[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3};/ nocase
    condition:
        (
            (
                #g >= 30 and #g * 150 > filesize
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_goto_spaghetti_with_sink
{
    meta:
        author = "fim project"
        description = "Goto-scrambled control flow in a file that also evaluates code or calls functions through variables."
        family = "php_obfuscation"
        severity = "medium"
        looks_for = "30+ goto statements + eval/assert/$f()"
    condition:
        (
            (
                fim_php_obfuscation_goto_spaghetti and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_high_entropy_with_eval
{
    meta:
        author = "fim project"
        description = "A mostly-ASCII PHP file whose byte entropy is as high as encoded data and that evaluates code: probably a packed payload. A weak heuristic."
        family = "php_obfuscation"
        severity = "medium"
        looks_for = "PHP file, entropy >= 5.6, eval/assert/create_function"
    strings:
        $php = /<\?(php|=|\s)/ nocase
    condition:
        (
            (
                filesize > 2KB and filesize < 2MB and $php in (0..256)
                and fim_php_obfuscation_code_sink
                and math.entropy(0, filesize) >= 5.6
                and math.count(0xE3, 0, filesize) + math.count(0xE4, 0, filesize) + math.count(0xE5, 0, filesize) + math.count(0xE6, 0, filesize) + math.count(0xE7, 0, filesize) + math.count(0xE8, 0, filesize) + math.count(0xE9, 0, filesize) + math.count(0xD0, 0, filesize) + math.count(0xD1, 0, filesize) < filesize \ 100
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_tiny_fragment_concatenation
{
    meta:
        author = "fim project"
        description = "A string is built from four or more concatenated 1-3 character literals ('e'.'v'.'a'.'l') in a file that evaluates code or calls functions through variables: function names hidden from text search."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "'a'.'ss'.'e'.'rt' style chains + eval/assert/$f()"
    strings:
        $s1 = /[a-zA-Z_0-9]{1,3}'\.'[a-zA-Z_0-9]{1,3}'\.'[a-zA-Z_0-9]{1,3}'\.'[a-zA-Z_0-9]{1,3}'/
        $s2 = /[a-zA-Z_0-9]{1,3}' \. '[a-zA-Z_0-9]{1,3}' \. '[a-zA-Z_0-9]{1,3}' \. '[a-zA-Z_0-9]{1,3}'/
        $d1 = /[a-zA-Z_0-9]{1,3}"\."[a-zA-Z_0-9]{1,3}"\."[a-zA-Z_0-9]{1,3}"\."[a-zA-Z_0-9]{1,3}"/
        $d2 = /[a-zA-Z_0-9]{1,3}" \. "[a-zA-Z_0-9]{1,3}" \. "[a-zA-Z_0-9]{1,3}" \. "[a-zA-Z_0-9]{1,3}"/
    condition:
        (
            any of them and fim_php_obfuscation_not_asset
            and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_xor_string_building
{
    meta:
        author = "fim project"
        description = "Strings are produced by XOR-ing string literals ('%01'^'`', \"X\"^\"8\") in a file that calls functions through variables or evaluates code: the technique of alphanumeric-free webshells to build function names."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "two or more 'lit'^'lit' expressions + eval or $f()"
    strings:
        $x1 = /['"][^'"\n,\s]{1,12}'\^'[^'"\n,\s]{1,12}['"]/
        $x2 = /['"][^'"\n,\s]{1,12}"\^"[^'"\n,\s]{1,12}['"]/
        $x3 = /['"][^'"\n,\s]{1,12}' \^ '[^'"\n,\s]{1,12}['"]/
        $x4 = /['"][^'"\n,\s]{1,12}" \^ "[^'"\n,\s]{1,12}['"]/
    condition:
        (
            #x1 + #x2 + #x3 + #x4 >= 2 and fim_php_obfuscation_not_asset
            and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_underscore_variables
{
    meta:
        author = "fim project"
        description = "Code written almost only with underscore variables ($_, $__, $___) that are incremented, concatenated and finally called as functions: an alphanumeric-free webshell."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "many $__ / $___ assignments or increments + a $__(...) call"
    strings:
        $u = /\$_{2,8}\s{0,3}(=|\+\+|\.=|\[)/
        $call = /\$_{1,8}\s{0,3}\(/
    condition:
        (
            (
                #u >= 8 and $call and filesize < 64KB
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_many_escaped_letters
{
    meta:
        author = "fim project"
        description = "A small script writes many plain letters as \\x escapes (mixed into otherwise normal strings) and evaluates code (or calls functions through variables with request input): function names and code hidden from text search."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "30+ \\x escapes of letters in a file < 64KB + eval/assert, or $f() with request input"
    strings:
        $e = /\\x[4-7][0-9a-fA-F]/
    condition:
        (
            #e >= 30 and filesize < 64KB and fim_php_obfuscation_not_asset
            and (fim_php_obfuscation_code_sink or (fim_php_obfuscation_variable_call and fim_php_obfuscation_request_input))
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_scrambled_variable_names
{
    meta:
        author = "fim project"
        description = "Variable names made only of look-alike characters (O/0, l/1/I, _) used throughout the file, together with eval or variable function calls: output of PHP obfuscators commonly used to pack webshells."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "many $O00O0O / $lI1lI1 style variables + eval/assert/$f()"
    strings:
        $o = /\$O[O0]{4,11}[^\w\x7f-\xff]/
        $l = /\$(l1|lI|ll|I1|Il|II)[lI1]{3,10}[^\w\x7f-\xff]/
    condition:
        (
            (#o >= 10 or #l >= 10) and fim_php_obfuscation_not_asset
            and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_decoded_literal_evaluated
{
    meta:
        author = "fim project"
        description = "A small script decodes an encoded string literal (base64/rot13/hex/gzip...) into a variable and then evaluates a variable: the executed code is hidden in the literal."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$x = base64_decode('...' or $literal_var); ... eval($x) / assert($x)"
    strings:
        $dec = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=\s{0,5}@?((gzinflate|gzuncompress|gzdecode|str_rot13|strrev|base64_decode|convert_uudecode|hex2bin|rawurldecode|urldecode)\s{0,5}\(\s{0,5}@?){1,4}(['"][^'"\n]{16}|\$[a-zA-Z_\x7f-\xff])/ nocase
        $sink_e = /(^|[^\w>:$.\\])eval\s{0,10}\(\s{0,10}(['"]\?>['"]\s{0,5}\.\s{0,5})?@?\$[a-zA-Z_\x7f-\xff]/ nocase
        $sink_a = /(^|[^\w>:$.\\])assert\s{0,10}\(\s{0,10}@?\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}(\[[^\]\n]{1,40}\]\s{0,5})?\)/ nocase
    condition:
        (
            (
                filesize < 16KB and $dec and any of ($sink*)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_decoder_names_in_variables
{
    meta:
        author = "fim project"
        description = "Two or more decoder names (base64_decode, gzinflate, str_rot13...) are stored in variables and called through them, nested: the packed-payload loader of obfuscators such as those wrapping WSO/FilesMan shells."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$a = 'base64_decode'; $b = 'gzinflate'; ... $b($a('...'))"
    strings:
        $n1 = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=\s{0,5}['"](base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|convert_uudecode|hex2bin)['"]/ nocase
        $nest = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(/
    condition:
        (
            (
                #n1 >= 2 and $nest
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_nested_variable_calls_on_blob
{
    meta:
        author = "fim project"
        description = "Functions called through variables are nested around a long encoded literal ($a($b($c('...long base64...')))): the decoders are hidden and the payload is packed."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$x($y(\"<200+ base64 chars>\")), $x($y($z('...')))"
    strings:
        $a = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\s{0,3}(\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\s{0,3})?['"][A-Za-z0-9+\/=\r\n]{200}/
    condition:
        (
            (
                $a
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_indexed_character_assembly
{
    meta:
        author = "fim project"
        description = "A string is assembled from single characters picked out of another string by index ($s[41].$s[16].$s[39]...), repeatedly: function names and code hidden in a shuffled alphabet."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$k = 'x9a_...'; $f = $k[4].$k[12].$k[0].$k[7]...; $f(...)"
    strings:
        $a = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\})\.\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\})\.\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\})\.\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\})/
        $b = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\}) \. \$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\}) \. \$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\}) \. \$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}(\[\d{1,3}\]|\{\d{1,3}\})/
    condition:
        (
            (
                #a + #b >= 4 and (fim_php_obfuscation_variable_call or fim_php_obfuscation_code_sink)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_hex_encoded_php
{
    meta:
        author = "fim project"
        description = "A long hexadecimal literal that decodes to PHP source ('3c3f706870' is '<?php') or that is decoded with hex2bin/pack('H*') in a file that runs code or writes files: a payload hidden as hex."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$t = '3c3f7068700d0a...'; file_put_contents($n, hex2bin($t)) / assert(pack('H*', $___))"
    strings:
        $php = /['"]3c3f(706870[0-9a-fA-F]{100}|[0-9a-fA-F]{30})/ nocase
        $hex = /(hex2bin\s{0,5}\(|pack\s{0,5}\(\s{0,5}['"]H\*['"]\s{0,5},)\s{0,5}['"][0-9a-fA-F]{400}/ nocase
        $w = /\b(file_put_contents|fwrite|fputs)\s{0,5}\(/ nocase
    condition:
        (
            (
                $php or ($hex and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call or $w))
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_encoded_code
{
    meta:
        author = "fim project"
        description = "Encoded code (low): a commercial encoder's loader stub (ionCube, SourceGuardian) or a vendor-headed file that evaluates one encoded literal and reads no request input. Usually licensed software; worth a look only if no such product is installed here."
        family = "php_obfuscation"
        severity = "low"
        looks_for = "ionCube/SourceGuardian loader stubs; /** @package X */ eval(base64_decode('...')) alone"
    condition:
        (
            // not via fim_php_obfuscation_not_asset: that helper excludes exactly these files from the other rules
            fim_php_obfuscation_encoder_stub or fim_php_obfuscation_vendor_encoded
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_char_function_in_variable
{
    meta:
        author = "fim project"
        description = "The chr function (or another one-character decoder) is reached through a variable and called over and over with character codes ($c(101).$c(118).$c(97)...): code and names assembled so that no word of them appears in the file."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$f = chr(99).chr(104).chr(114); $code = $f(101).$f(118).$f(97).$f(108)..."
    strings:
        $a = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\)\.\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\)\.\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\)\.\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\)/
        $b = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\) \. \$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\) \. \$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\) \. \$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\(\d{2,3}\)/
    condition:
        (
            (
                ($a or $b) and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_dynamic_superglobal_call
{
    meta:
        author = "fim project"
        description = "An element of an array reached through a variable-variable (${$x}[...], usually a superglobal whose name was computed) is called as a function or evaluated: the alphanumeric-free one-liner webshells."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$_ = '...'^'...'; ${$_}[_](${$_}[__]); eval(\"\".${$a}['a'])"
    strings:
        $call = /\$\{\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\}\s{0,3}\[[^\]\n]{1,20}\]\s{0,3}\(/
        $vv = /\$\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[[^\]\n]{1,20}\]\s{0,3}\(\s{0,3}\$\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[/
        $read = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}=\s{0,3}\$\{\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\}\s{0,3}\[/
    condition:
        (
            (
                $call or $vv or ($read and fim_php_obfuscation_code_sink)
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_embedded_base64_php
{
    meta:
        author = "fim project"
        description = "A PHP file carries another PHP program as a base64 literal ('PD9waHA' is base64 for '<?php', 'PD9' for '<?'): code that is decoded later to be run, written out or injected into other files."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$code = 'PD9waHAK...'; base64_decode('PD9pZigk...')"
    strings:
        $a = /['"](PD9waHA|PD9pZi|PD9ldmFs|PD9AZXZhb|PD89|PD8gc|PD9cbi|PD8K)[A-Za-z0-9+\/]{60}/
        $php = /<\?(php|=|\s)/ nocase
    condition:
        (
            (
                $a and $php
            ) and fim_php_obfuscation_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_globals_indirection
{
    meta:
        author = "fim project"
        description = "Variables are reached again and again through ${${'GLOBALS'}['random_key']}: an obfuscator that renames every variable into a random key of $GLOBALS, used to pack webshells."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "${${\"GLOBALS\"}[\"abcxyz\"]} used many times"
    strings:
        $a = /\$\{\s{0,3}\$\{\s{0,3}['"]GLOBALS['"]\s{0,3}\}\s{0,3}\[/
    condition:
        (
            #a >= 5
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_nibble_table_decoder
{
    meta:
        author = "fim project"
        description = "A payload is decoded two symbols at a time through a lookup table of sixteen entries (chr(($h[$a] << 4) + $h[$b])) and then evaluated or called: a packer that keeps its payload in punctuation-only text."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "for (...) { if ($o < 16) $h[$e[$o]] = $o; else $d .= chr(($h[$e[$o]] << 4) + $h[$e[++$o]]); } eval($d);"
    strings:
        $n = /chr\s{0,3}\(\s{0,3}\(\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\[[^\]\n]{1,40}\]\s{0,3}\]?\s{0,3}<<\s{0,3}4\s{0,3}\)\s{0,3}\+/ nocase
    condition:
        (
            $n and (fim_php_obfuscation_code_sink or fim_php_obfuscation_variable_call)
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_function_names_in_array
{
    meta:
        author = "fim project"
        description = "Function names (chr, ord, base64_decode, str_rot13, create_function...) are stored as values of an array (often an alias of $GLOBALS) and the functions are called through the array elements: an obfuscator that removes every direct call from the code."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "$g['a1'] = 'chr'; $g['b2'] = 'ord'; $g['c3'] = 'base64_decode'; ... $g['a1'](101)"
    strings:
        $name = /\[\s{0,3}['"][\w\x7f-\xff]{1,20}['"]\s{0,3}\]\s{0,3}=\s{0,3}['"](chr|ord|define|base64_decode|str_rot13|gzinflate|gzuncompress|strrev|urldecode|rawurldecode|create_function|assert|eval|hex2bin|pack|implode|explode|str_replace|preg_replace|call_user_func|file_get_contents|fwrite|fopen)['"]\s{0,3};/ nocase
        $call = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\[['"][\w\x7f-\xff]{1,20}['"]\]\(/
    condition:
        (
            #name >= 3 and #call >= 3
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_obfuscation_substitution_cipher_decoder
{
    meta:
        author = "fim project"
        description = "A helper maps every character of a string through a substitution table (isset($map[$s[$i]]) ? $map[$s[$i]] : $s[$i]) and the result is url-decoded or run through a variable function: the loader of a substitution-ciphered payload."
        family = "php_obfuscation"
        severity = "high"
        looks_for = "for(...) $o .= isset($t[$s[$i]]) ? $t[$s[$i]] : $s[$i]; $f = 'rawurl' . 'decode'; return $f($o);"
    strings:
        // unmapped characters pass through unchanged: the false branch is the input character itself
        $map = /isset\s{0,3}\(\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\[\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\[\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\]\]\s{0,3}\)\s{0,3}\?\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\[\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\[\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\]\]\s{0,3}:\s{0,3}\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\[\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\]/
    condition:
        $map and (fim_php_obfuscation_variable_call or fim_php_obfuscation_code_sink)
        and chain != "strip-comments"
}
