/*
 * php_uploader: uploaders and droppers - scripts that let a client put
 * arbitrary files on the server (under a name the client chooses), write
 * request content to disk, or fetch code from a remote URL and save it.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_php_uploader_unit_test
{
    meta:
        author = "fim project"
        description = "Helper: the file is a PHPUnit-style test case class"
        family = "php_uploader"
        severity = "low"
        looks_for = "class FooTest extends TestCase { public function testX() ... }"
    strings:
        $ext = /class\s{1,5}\w{1,60}Test\s{1,5}extends\s{1,5}\\?[\w\\]{0,80}TestCase\b/
        $t = /function\s{1,5}test\w{0,60}\s{0,5}\(/
    condition:
        $ext and $t
}

private rule fim_php_uploader_not_asset
{
    meta:
        author = "fim project"
        description = "Helper: the file is not JavaScript, a style sheet, JSON, documentation or a translation catalogue, where PHP syntax shows up as quoted examples or keyword lists"
        family = "php_uploader"
        severity = "low"
        looks_for = "extension not in .js .cjs .mjs .ts .vue .css .json .map .md .rst .po"
    strings:
        // a text file holds a PHP payload only when a line starts with the PHP tag (prose quoting PHP does not)
        $tag0 = /<\?(php|=|\s)/ nocase
        $tagline = /\n<\?(php|=|\s)/ nocase
    condition:
        not (extension == ".js" or extension == ".cjs" or extension == ".mjs" or extension == ".jsx"
             or extension == ".ts" or extension == ".tsx" or extension == ".vue" or extension == ".css"
             or extension == ".scss" or extension == ".less" or extension == ".json" or extension == ".map"
             or extension == ".md" or extension == ".markdown" or extension == ".rst" or extension == ".po"
             or extension == ".pot")
        // unit tests of upload code fake $_FILES and call move_uploaded_file on purpose
        and not fim_php_uploader_unit_test
        and not (extension == ".txt" and not ($tag0 in (0..16) or $tagline))
        // archives (backups, plugin packages) hold PHP sources as members; they are listed, never run
        and not ((filetype == "ZIP" or filetype == "GZIP") and not extension matches /^\.(php\d?|phtml|pht|inc)$/)
}



rule fim_php_uploader_client_chosen_name
{
    meta:
        author = "fim project"
        description = "An uploaded file is moved/copied to a destination built from the client-supplied file name ($_FILES[..]['name']) or from another request parameter, so the client can upload a .php file and run it."
        family = "php_uploader"
        severity = "high"
        looks_for = "move_uploaded_file($_FILES[f]['tmp_name'], ... $_FILES[f]['name'] / $_POST[...])"
    strings:
        $mv_name = /\b(move_uploaded_file|copy|rename)\s{0,10}\(\s{0,10}@?\$_FILES\s{0,5}\[[^\]\n]{1,60}\]\s{0,5}\[\s{0,5}['"]tmp_name['"]\s{0,5}\]\s{0,5},[^;{}]{0,150}(\$_FILES\s{0,5}\[[^\]\n]{1,60}\]\s{0,5}\[\s{0,5}['"]name['"]|\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[)/ nocase
    condition:
        (
            (
                $mv_name
            ) and fim_php_uploader_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_uploader_small_unvalidated
{
    meta:
        author = "fim project"
        description = "A small script saves uploaded files without any check of name, extension or content (no pathinfo/in_array/preg_match/getimagesize/finfo...): a bare uploader that lets anyone drop a webshell."
        family = "php_uploader"
        severity = "high"
        looks_for = "small file with $_FILES + move_uploaded_file/copy and no validation"
    strings:
        $files = "$_FILES"
        $mv = /\b(move_uploaded_file|copy)\s{0,10}\(/ nocase
        $v1 = /\b(pathinfo|in_array|preg_match|getimagesize|exif_imagetype|finfo_open|finfo_file|mime_content_type|random_bytes|uniqid|md5_file|sha1_file|hash_file|bin2hex|is_uploaded_file|array_key_exists|wp_handle_upload|wp_check_filetype|sanitize_file_name|image_type_to_extension|getimagesizefromstring|filter_var)\s{0,5}\(/ nocase
        $v2 = /new\s{1,5}finfo/ nocase
        $v3 = /\bstrtolower\s{0,5}\(\s{0,5}(pathinfo|substr|strrchr|end)/ nocase
    condition:
        (
            (
                filesize < 4KB and $files and $mv and not any of ($v*)
            ) and fim_php_uploader_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_uploader_write_request_named_file
{
    meta:
        author = "fim project"
        description = "A file whose name comes from the request is opened for writing or written with file_put_contents: the client can create any file (e.g. a PHP backdoor) with the content it sends."
        family = "php_uploader"
        severity = "high"
        looks_for = "file_put_contents($_POST[name], ...), fopen($_GET[f], 'w')"
    strings:
        $fpc = /\bfile_put_contents\s{0,10}\(\s{0,10}@?(\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|getallheaders)/ nocase
        $fopen = /\bfopen\s{0,10}\(\s{0,10}@?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^;{}]{1,100},\s{0,10}['"][wax]\+?[bt]?['"]/ nocase
    condition:
        (
            (
                any of them
            ) and fim_php_uploader_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_uploader_write_request_content
{
    meta:
        author = "fim project"
        description = "Request content (possibly decoded) is written into a file with file_put_contents/fwrite/fputs in a small script: a dropper that stores whatever the client sends."
        family = "php_uploader"
        severity = "high"
        looks_for = "small file, file_put_contents($f, $_POST[data]) / fwrite($h, base64_decode($_REQUEST[c]))"
    strings:
        $a = /\b(file_put_contents|fwrite|fputs)\s{0,10}\([^;{}]{1,120},\s{0,10}@?((base64_decode|gzinflate|gzuncompress|str_rot13|hex2bin|urldecode|stripslashes)\s{0,5}\(\s{0,5})?(\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[|\$_SERVER\s{0,5}\[\s{0,5}['"]HTTP_|file_get_contents\s{0,5}\(\s{0,5}['"]php:\/\/input|getallheaders)/ nocase
    condition:
        (
            (
                filesize < 8KB and $a
            ) and fim_php_uploader_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_uploader_remote_fetch_to_disk
{
    meta:
        author = "fim project"
        description = "Content fetched from a hard-coded remote URL (file_get_contents/curl/copy of http://...) is written to a local file: a dropper that installs a payload from an attacker's server."
        family = "php_uploader"
        severity = "high"
        looks_for = "file_put_contents(x, file_get_contents('http://...')), copy('http://...', 'x.php'), curl + fwrite to .php"
    strings:
        $nested = /\b(file_put_contents|fwrite|fputs)\s{0,10}\([^;{}]{1,120},\s{0,10}@?(file_get_contents|implode\s{0,5}\(\s{0,5}['"]{2}\s{0,5},\s{0,5}file|stream_get_contents\s{0,5}\(\s{0,5}fopen)\s{0,5}\(\s{0,5}['"](https?|ftp):\/\// nocase
        $copy = /\bcopy\s{0,10}\(\s{0,10}['"](https?|ftp):\/\/[^'"\n]{4,200}['"]\s{0,10},/ nocase
        $fetch = /\b(file_get_contents|curl_init|fopen)\s{0,10}\(\s{0,10}['"](https?|ftp):\/\/[^'"\n]{4,200}\.(txt|jpg|gif|png|php\d?|phtml|dat|bin)['"]/ nocase
        $write = /\b(file_put_contents|fwrite|fputs|copy)\s{0,10}\(/ nocase
        $php_target = /['"][^'"\n]{0,120}\.(php\d?|phtml|phar)['"]/ nocase
        $php = /<\?(php|=|\s)/ nocase
    condition:
        (
            (
                $php and ($nested or $copy or (filesize < 8KB and $fetch and $write and $php_target))
                and not (extension == ".md" or extension == ".rst" or extension == ".txt" or extension == ".html" or extension == ".htm" or extension == ".js" or extension == ".json")
            ) and fim_php_uploader_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_uploader_drops_php_code
{
    meta:
        author = "fim project"
        description = "The script writes a file whose content is a base64-encoded PHP program ('PD9waHA' is base64 for '<?php'): a dropper that plants another backdoor."
        family = "php_uploader"
        severity = "high"
        looks_for = "file_put_contents/fwrite + base64 literal starting with PD9waHA / PD89"
    strings:
        $b64php = /['"](PD9waHA|PD89|PD8gc)/
        $write = /\b(file_put_contents|fwrite|fputs)\s{0,10}\(/ nocase
    condition:
        (
            (
                $b64php and $write
            ) and fim_php_uploader_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}
