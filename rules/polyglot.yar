/*
 * polyglot: PHP code hidden in files that look like images or other
 * non-PHP content - an image header (GIF89a, JPEG, PNG...) followed by PHP,
 * or PHP code stored under an image/text extension so that it can be
 * included, or executed after a server-config change.
 *
 * Uses the fim externals `filetype` (from magic bytes), `extension`
 * (lower-case, with the dot) and `filename`.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

rule fim_polyglot_image_header_with_php
{
    meta:
        author = "fim project"
        description = "The file starts with an image signature (GIF/JPEG/PNG/ICO/BMP/WEBP) but contains PHP code: an image/PHP polyglot used to get a webshell past upload filters."
        family = "polyglot"
        severity = "high"
        looks_for = "image magic bytes + '<?php' / '<?=$...' / <script language=php>"
    strings:
        $php = "<?php" nocase
        $short = /<\?=\s{0,5}(\$[a-zA-Z_]|`|@?[a-zA-Z_]{3,30}\s{0,5}\()/
        $tag = /<script\s{1,5}language\s{0,3}=\s{0,3}['"]?php/ nocase
    condition:
        (filetype == "GIF" or filetype == "JPEG" or filetype == "PNG" or filetype == "ICO" or filetype == "BMP" or filetype == "WEBP")
        and any of them
}

rule fim_polyglot_php_in_image_extension
{
    meta:
        author = "fim project"
        description = "PHP code inside a file with an image/media/archive extension (.ico, .jpg, .png, .gif, .svg, .mp3, .zip...): hidden code meant to be include()d or executed through a handler override (e.g. malicious favicon .ico files)."
        family = "polyglot"
        severity = "high"
        looks_for = "'<?php' / '<?=' code in a .ico/.jpg/.jpeg/.png/.gif/.bmp/.webp/.svg/... file"
    strings:
        $php = "<?php" nocase
        $short = /<\?=\s{0,5}(\$[a-zA-Z_]|`|@?[a-zA-Z_]{3,30}\s{0,5}\()/
        $tag = /<script\s{1,5}language\s{0,3}=\s{0,3}['"]?php/ nocase
    condition:
        (extension == ".ico" or extension == ".jpg" or extension == ".jpeg" or extension == ".jpe"
         or extension == ".png" or extension == ".gif" or extension == ".bmp" or extension == ".webp"
         or extension == ".tif" or extension == ".tiff" or extension == ".svg" or extension == ".svgz"
         or extension == ".mp3" or extension == ".mp4" or extension == ".avi" or extension == ".wav"
         or extension == ".ttf" or extension == ".woff" or extension == ".woff2" or extension == ".eot"
         or extension == ".zip" or extension == ".gz" or extension == ".pdf" or extension == ".swf")
        and any of them
        // a real archive (backup, plugin package) holds PHP sources as members; only a file that
        // merely wears an archive extension is a disguised payload
        and not (filetype == "ZIP" or filetype == "GZIP")
}

rule fim_polyglot_php_code_in_text_file
{
    meta:
        author = "fim project"
        description = "PHP code that runs commands/evaluates code from the request or from an encoded blob, stored in a non-PHP text file (.txt, .log, .css, .js, .json, .xml, .csv...): a payload staged for include() or for a handler override."
        family = "polyglot"
        severity = "high"
        looks_for = "'<?php' + eval/assert/system/exec/passthru/shell_exec + request input or decoder, in .txt/.log/.css/.js/..."
    strings:
        $php = /<\?(php|=)/ nocase
        $sink = /(^|[^\w>:$.\\])(eval|assert|system|exec|passthru|shell_exec|popen|proc_open|create_function)\s{0,10}\(/ nocase
        $src1 = /\$_(GET|POST|REQUEST|COOKIE|FILES)\b/
        $src2 = /\b(base64_decode|gzinflate|gzuncompress|str_rot13|strrev|hex2bin)\s{0,5}\(/ nocase
        $src3 = "php://input" nocase
    condition:
        (extension == ".txt" or extension == ".log" or extension == ".css" or extension == ".js"
         or extension == ".json" or extension == ".xml" or extension == ".csv" or extension == ".dat"
         or extension == ".tmp" or extension == ".ini" or extension == ".md" or extension == ".db"
         or extension == ".cache" or extension == ".lock" or extension == ".sess" or extension == ".mo"
         or extension == ".po" or extension == "")
        and filename != ".htaccess"
        and $php and $sink and any of ($src*)
        // documentation, catalogues and changelogs quote PHP in prose: there the code must open the file
        and (not (extension == ".md" or extension == ".po" or extension == ".mo" or extension == ".txt"
                  or extension == ".xml" or extension == ".json" or extension == ".csv" or extension == ".ini"
                  or extension == ".js" or extension == ".css")
             or $php in (0..3))
}

rule fim_polyglot_double_extension_php
{
    meta:
        author = "fim project"
        description = "PHP code in a file with a double extension where a PHP extension hides before a harmless one (shell.php.jpg, x.phtml.png): relies on permissive handler mappings to execute."
        family = "polyglot"
        severity = "high"
        looks_for = "file name like *.php.jpg / *.phtml.png / *.php.txt containing PHP code"
    strings:
        $php = /<\?(php|=)/ nocase
    condition:
        filename matches /\.(php[0-9s]?|phtml|phar|pht|pgif)\.(jpe?g|png|gif|bmp|ico|webp|svg|tiff?|txt|pdf|zip|rar|7z|docx?|xlsx?|csv|mp[34]|avi|mov|wav|tmp|jfif|heic)$/i
        and $php
}
