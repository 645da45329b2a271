/*
 * php_backdoor_login: hard-coded password gates. Backdoors compare the hash
 * of a request parameter/cookie/header with a literal md5/sha1/sha256 hex
 * digest (or a bcrypt hash) so that only the attacker can use them.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_php_backdoor_login_not_asset
{
    meta:
        author = "fim project"
        description = "Helper: the file is not JavaScript, a style sheet, JSON, documentation or a translation catalogue, where PHP syntax shows up as quoted examples or keyword lists, nor a PHPUnit test case in a tests folder (attack strings as test data)"
        family = "php_backdoor_login"
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


private rule fim_php_backdoor_login_hash_compare
{
    meta:
        author = "fim project"
        description = "Helper: hash of request input compared with a hard-coded hex digest"
        family = "php_backdoor_login"
        severity = "low"
        looks_for = "md5($_POST[p]) == '<32 hex>'"
    strings:
        $l1 = /\b(md5|sha1)\s{0,5}\(\s{0,5}@?(\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[|getallheaders)[^;{}]{0,80}\)\s{0,5}(!|=)==?\s{0,5}['"][0-9a-fA-F]{32,40}['"]/ nocase
        $l2 = /['"][0-9a-fA-F]{32,40}['"]\s{0,5}(!|=)==?\s{0,5}(md5|sha1)\s{0,5}\(\s{0,5}@?(\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[|getallheaders)/ nocase
        $l3 = /\bhash\s{0,5}\(\s{0,5}['"](md5|sha1|sha256|sha512)['"]\s{0,5},\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[[^;{}]{0,80}\)\s{0,5}(!|=)==?\s{0,5}['"][0-9a-fA-F]{32,128}['"]/ nocase
        $l4 = /['"][0-9a-fA-F]{32,128}['"]\s{0,5}(!|=)==?\s{0,5}hash\s{0,5}\(\s{0,5}['"](md5|sha1|sha256|sha512)['"]\s{0,5},\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[/ nocase
        $l5 = /\b(hash_equals|strcmp|strcasecmp)\s{0,5}\(\s{0,5}['"][0-9a-fA-F]{32,128}['"]\s{0,5},\s{0,5}(md5|sha1|hash)\s{0,5}\(\s{0,5}(['"][a-z0-9]{3,8}['"]\s{0,5},\s{0,5})?@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[/ nocase
        $l6 = /\bin_array\s{0,5}\(\s{0,5}(md5|sha1)\s{0,5}\(\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[[^;{}]{0,160}['"][0-9a-fA-F]{32,40}['"]/ nocase
        $l7 = /\bpassword_verify\s{0,5}\(\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[[^;{}]{0,80},\s{0,5}['"]\$2[abxy]?\$/ nocase
        $l8 = /\bpassword_verify\s{0,5}\(\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[[^;{}]{0,80},\s{0,5}['"]\$argon2/ nocase
    condition:
        any of them
}

private rule fim_php_backdoor_login_hash_compare_split
{
    meta:
        author = "fim project"
        description = "Helper: small script hashing request input into a variable and comparing a variable with a hex digest literal"
        family = "php_backdoor_login"
        severity = "low"
        looks_for = "$h = md5($_POST[p]); if ($h == '<32 hex>')"
    strings:
        $h = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,5}=\s{0,5}(md5|sha1|hash\s{0,5}\(\s{0,5}['"][a-z0-9]{3,8}['"]\s{0,5},)\s{0,5}\(?\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[/ nocase
        $c1 = /==\s{0,3}['"][0-9a-fA-F]{32}/
        $c2 = /!=\s{0,3}['"][0-9a-fA-F]{32}/
        $c3 = /[0-9a-fA-F]{32}['"]\s{0,3}===?\s{0,3}\$/
        $c4 = /[0-9a-fA-F]{32}['"]\s{0,3}!==?\s{0,3}\$/
    condition:
        filesize < 16KB and $h and any of ($c*)
}

private rule fim_php_backdoor_login_hash_in_password_variable
{
    meta:
        author = "fim project"
        description = "Helper: a password-named variable holds a hex digest literal and request input is hashed in the same file"
        family = "php_backdoor_login"
        severity = "low"
        looks_for = "$auth_pass = '<32/40 hex>'; ... md5($_POST['pass'])"
    strings:
        $var = /\$[a-zA-Z_]{0,20}(pass|pwd|password|passwd|secret|key)[a-zA-Z_0-9]{0,20}\s{0,5}=\s{0,5}['"][0-9a-fA-F]{32}([0-9a-fA-F]{8})?['"]\s{0,5};/ nocase
        $def = /define\s{0,5}\(\s{0,5}['"][A-Z_]{0,20}(PASS|PWD|PASSWORD|SECRET)[A-Z_0-9]{0,20}['"]\s{0,5},\s{0,5}['"][0-9a-fA-F]{32}([0-9a-fA-F]{8})?['"]/ nocase
        $hash = /\b(md5|sha1)\s{0,5}\(\s{0,5}@?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,5}\[/ nocase
    condition:
        filesize < 1MB and ($var or $def) and $hash
}

rule fim_php_backdoor_login_hardcoded_hash_gate
{
    meta:
        author = "fim project"
        description = "Hard-coded password gate: the hash of a request parameter, cookie or header is compared with a literal md5/sha1/sha2 digest or bcrypt hash. Backdoors use this so only the attacker can unlock them."
        family = "php_backdoor_login"
        severity = "high"
        looks_for = "md5($_POST['p']) == '5f4d...', sha1($_COOKIE[k]) === '...', password_verify($_GET[p], '$2y$...'), $auth_pass = '<md5>' + md5($_POST[..])"
    condition:
        (
            (
                fim_php_backdoor_login_hash_compare or fim_php_backdoor_login_hash_compare_split or fim_php_backdoor_login_hash_in_password_variable
            ) and fim_php_backdoor_login_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_backdoor_login_gate_to_code_execution
{
    meta:
        author = "fim project"
        description = "A hard-coded password hash gate protects code execution (eval/assert/system/exec/passthru/shell_exec/include/variable function): a password-protected backdoor."
        family = "php_backdoor_login"
        severity = "critical"
        looks_for = "hash-of-request == literal + eval/assert/system/exec/include"
    strings:
        $x = /(^|[^\w>:$.\\])(eval|assert|system|passthru|shell_exec|popen|proc_open|exec|create_function|include|require|include_once|require_once)\s{0,5}\(\s{0,5}@?(\$|base64_decode|gzinflate|str_rot13|stripslashes)/ nocase
        $v = /(^|[^\w>:$.\\])\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}\(\$_/
    condition:
        (
            (
                (fim_php_backdoor_login_hash_compare or fim_php_backdoor_login_hash_compare_split or fim_php_backdoor_login_hash_in_password_variable) and any of them
            ) and fim_php_backdoor_login_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}
