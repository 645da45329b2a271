/*
 * php_mailer: mass mailers and spam senders - scripts that send mail in a
 * loop to recipient lists supplied in the request, or relay any message the
 * client asks for (recipient, subject, body and headers from the request).
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_php_mailer_not_asset
{
    meta:
        author = "fim project"
        description = "Helper: the file is not JavaScript, a style sheet, JSON, documentation or a translation catalogue, where PHP syntax shows up as quoted examples or keyword lists, nor a PHPUnit test case in a tests folder (attack strings as test data)"
        family = "php_mailer"
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


rule fim_php_mailer_request_recipient_list
{
    meta:
        author = "fim project"
        description = "Mass mailer: a list of recipients is taken from the request (split on newlines/commas) and mail() is called in a loop: a spam sender planted on the site."
        family = "php_mailer"
        severity = "high"
        looks_for = "explode(\"\\n\", $_POST[list]) + loop + mail(...)"
    strings:
        $list1 = /\b(explode|split)\s{0,5}\(\s{0,5}(['"](\\r\\n|\\n|\\r|,|;|\|)['"]|PHP_EOL|chr\s{0,3}\(\s{0,3}1[03]\s{0,3}\))\s{0,5},\s{0,5}@?((trim|stripslashes|urldecode|base64_decode)\s{0,5}\(\s{0,5})?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[/ nocase
        $list2 = /\bpreg_split\s{0,5}\(\s{0,5}['"][^'"\n]{1,30}['"]\s{0,5},\s{0,5}@?((trim|stripslashes|urldecode|base64_decode)\s{0,5}\(\s{0,5})?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[/ nocase
        $list3 = /\bfile\s{0,5}\(\s{0,5}\$_FILES\s{0,5}\[/ nocase
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(/ nocase
        $loop = /\b(foreach|while|for)\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize < 512KB and any of ($list*) and $mail and $loop
            ) and fim_php_mailer_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_mailer_open_relay
{
    meta:
        author = "fim project"
        description = "Open mail relay: mail() is called with the recipient and the subject/body taken straight from request parameters, so anyone can send arbitrary mail through the server."
        family = "php_mailer"
        severity = "high"
        looks_for = "mail($_POST[to], $_POST[subject], $_POST[body] ...)"
    strings:
        $a = /(^|[^\w>:$.\\])@?mail\s{0,5}\(\s{0,5}@?(stripslashes\s{0,5}\(\s{0,5}|trim\s{0,5}\(\s{0,5}|urldecode\s{0,5}\(\s{0,5}|base64_decode\s{0,5}\(\s{0,5})?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^;{}]{1,200},[^;{}]{0,100}\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[/ nocase
    condition:
        (
            (
                $a
            ) and fim_php_mailer_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_mailer_spam_tool_ui
{
    meta:
        author = "fim project"
        description = "Spam tool: request-driven page that sends mail in a loop and lets the client set sender, reply-to, HTML body and recipient list (header injection from the request, sleep() pacing, HTML content-type, X-Mailer spoofing...)."
        family = "php_mailer"
        severity = "high"
        looks_for = "mail()/PHPMailer send in a loop + From:/Reply-To: built from request + 2 more spam-tool indicators"
    strings:
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(|->\s{0,3}(Send|send)\s{0,3}\(\s{0,3}\)/
        $loop = /\b(foreach|while|for)\s{0,5}\(/ nocase
        $hdr = /(From|Reply-To|Return-Path|Sender)\s{0,3}:\s{0,3}['"]?\s{0,5}\.\s{0,5}(\$_(GET|POST|REQUEST)\s{0,5}\[|\$[a-zA-Z_]\w{0,30})/ nocase
        $req = /\$_(GET|POST|REQUEST)\s{0,5}\[\s{0,5}['"](e?mail_?list|emails|to_list|recipients|maillist|mailist|lista?|leads)['"]/ nocase
        $s1 = /\bu?sleep\s{0,5}\(/ nocase
        $s2 = /Content-Type:\s{0,3}text\/html/ nocase
        $s3 = "X-Mailer" nocase
        $s4 = "<textarea" nocase
        $s5 = /X-Priority/ nocase
        $s6 = /\b(mt_rand|rand|str_shuffle)\s{0,5}\(/ nocase
        $s7 = /ini_set\s{0,5}\(\s{0,5}['"]sendmail_from/ nocase
        $s8 = /set_time_limit\s{0,5}\(\s{0,5}0\s{0,5}\)/ nocase
    condition:
        (
            (
                filesize < 512KB and $mail and $loop and $req and ($hdr or 3 of ($s*))
            ) and fim_php_mailer_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_mailer_decoded_request_into_mail
{
    meta:
        author = "fim project"
        description = "A script decodes request parameters or cookies (base64_decode, urldecode, str_rot13) and sends mail: a remote-controlled spam relay whose operator sends recipient, subject and body encoded so that they do not show in logs."
        family = "php_mailer"
        severity = "high"
        looks_for = "$to = base64_decode($_POST['x']); ... mail($to, $subj, $body, $hdr); $ho = urldecode($_COOKIE['ho'])"
    strings:
        $dec = /(base64_decode|urldecode|rawurldecode|str_rot13|hex2bin|gzinflate)\s{0,5}\(\s{0,5}(stripslashes\s{0,5}\(\s{0,5})?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[/ nocase
        $loop = /foreach\s{0,5}\(\s{0,5}\$_(GET|POST|REQUEST|COOKIE)\s{1,5}as\s{1,5}\$\w{1,30}\s{0,5}=>[^;]{0,120}\s{0,5}(base64_decode|urldecode|str_rot13)\s{0,5}\(/ nocase
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(\s{0,5}@?\$/ nocase
        $smtp = /fsockopen\s{0,5}\([^;]{0,80}(25|587|465)\b/ nocase
        $class = /class\s{1,5}PHPMailer\b/ nocase
    condition:
        (
            (
                filesize < 512KB and ($dec or $loop) and ($mail or $smtp) and not $class
            ) and fim_php_mailer_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_mailer_hidden_sender_script
{
    meta:
        author = "fim project"
        description = "A script switches off the X-PHP-Originating-Script mail header (ini_set('mail.add_x_header', 0)) and sends mail: spam tools do it so that the message does not name the script that sent it."
        family = "php_mailer"
        severity = "high"
        looks_for = "ini_set('mail.add_x_header', '0'|false|'off') + mail(...)"
    strings:
        $x = /ini_set\s{0,5}\(\s{0,5}['"]mail\.add_x_header['"]\s{0,5},\s{0,5}['"]?(0|off|false)\b/ nocase
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(/ nocase
        $class = /class\s{1,5}PHPMailer\b/ nocase
    condition:
        (
            (
                $x and $mail and not $class
            ) and fim_php_mailer_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_mailer_request_recipient_variable
{
    meta:
        author = "fim project"
        description = "The recipient of mail() is a variable filled from a request parameter named like an address or list (to, email, emails, mailto, lista...) and the script has no address validation: anyone can send mail to anyone through the site."
        family = "php_mailer"
        severity = "high"
        looks_for = "$to = $_GET['to']; ... mail($to, ...) without filter_var(FILTER_VALIDATE_EMAIL)"
    strings:
        $assign = /\$\w{1,30}\s{0,5}=\s{0,5}(trim|stripslashes|urldecode|base64_decode)?\s{0,3}\(?\s{0,3}\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[\s{0,5}['"](to|email|emails|mailto|mail_to|recipient|recipients|lista|list|maillist|emaillist|destino|para)['"]\s{0,5}\]/ nocase
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(\s{0,5}@?\$/ nocase
        $val = /FILTER_VALIDATE_EMAIL|is_email\s{0,3}\(|validate_?email|check_?email|valid_?email/ nocase
        $class = /class\s{1,5}PHPMailer\b/ nocase
    condition:
        (
            (
                filesize < 512KB and $assign and $mail and not $val and not $class
            ) and fim_php_mailer_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_mailer_recon_report
{
    meta:
        author = "fim project"
        description = "The script gathers facts about the server (phpinfo, the account name, php_uname, the page URL) and mails them to a hard-coded address: a probe that tells a spammer which sites it controls and whether their mail gets out."
        family = "php_mailer"
        severity = "high"
        looks_for = "$user = get_current_user(); mail('someone@example.test', 'ok', $_SERVER['HTTP_HOST'] . $_SERVER['REQUEST_URI']); ob_start(); phpinfo(); ... mail($list, ...)"
    strings:
        // a drop address at a free-mail provider
        $addr = /@(gmail|hotmail|yahoo|outlook|globo|bol|uol|terra|ig|mail|yandex|protonmail|aol|live|qq|163|126|gmx|web)\.[a-z]{2,6}/ nocase
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(/ nocase
        $r1 = /\bphpinfo\s{0,3}\(/ nocase
        $r2 = /\bget_current_user\s{0,3}\(/ nocase
        $r3 = /\bphp_uname\s{0,3}\(/ nocase
        $r4 = /mail\s{0,5}\([^;]{0,200}HTTP_HOST['"]\s{0,3}\]\s{0,3}\.\s{0,3}\$_SERVER\s{0,3}\[\s{0,3}['"](REQUEST_URI|PHP_SELF|SCRIPT_NAME)/ nocase
        $class = /class\s{1,5}PHPMailer\b/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        (
            (
                filesize < 64KB and $addr and $mail and any of ($r*) and not $class and not $lic
            ) and fim_php_mailer_not_asset
        )
        // decides on comments (licence, vendor header): matched on the stored bytes, not on the comment-stripped view
        and chain != "strip-comments"
}

rule fim_php_mailer_phishing_harvester
{
    meta:
        author = "fim project"
        description = "Phishing kit back end: payment-card or bank credential fields posted by a fake form (card number, CVV, expiry month/year, PIN) are mailed out or appended to a file."
        family = "php_mailer"
        severity = "high"
        looks_for = "$_POST['num_card'], $_POST['cvv'], $_POST['val_mes'] ... + mail($drop, ...) / fwrite($log, ...)"
    strings:
        $c1 = /\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"][\w-]{0,12}(cvv|cvc|cvv2|ccv)[\w-]{0,12}['"]/ nocase
        $c2 = /\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"][\w-]{0,12}(num_?card|card_?num|cc_?num|ccnum|cartao|card_?number|nome_?card|numero)[\w-]{0,12}['"]/ nocase
        $c3 = /\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"][\w-]{0,12}(val_?mes|val_?ano|exp_?month|exp_?year|validade|expir[\w]{0,6})[\w-]{0,12}['"]/ nocase
        $c4 = /\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"][\w-]{0,12}(senha|pin|atm_?pin|password_?card|cpf|ssn)[\w-]{0,12}['"]/ nocase
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(/ nocase
        $w = /\b(fwrite|fputs|file_put_contents)\s{0,5}\(/ nocase
    condition:
        (
            (
                filesize < 256KB and 2 of ($c*) and ($mail or $w)
            ) and fim_php_mailer_not_asset
        )
        // comments: skip the stored bytes when a comment-stripped view of them is matched too
        and not has_code_view
}

rule fim_php_mailer_bulk_sender_request_message
{
    meta:
        author = "fim project"
        description = "Bulk mailer: the message or subject comes from the request and mail() runs in a loop over a list (an uploaded file, a posted list), with spam-tool traits (HTML bodies, random tokens, priorities, no time limit): a spam sender planted on the site."
        family = "php_mailer"
        severity = "high"
        looks_for = "$msg = $_POST['html']; $list = file($_FILES['emails']['tmp_name']); for (...) { mail($list[$i], $subj, $msg, $headers); }"
    strings:
        $mail = /(^|[^\w>:$.\\])@?mail\s{0,5}\(/
        $loop = /\b(foreach|while|for)\s{0,5}\(/ nocase
        $body = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}=\s{0,3}(stripslashes|trim|urldecode|base64_decode)?\s{0,3}\(?\s{0,3}\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"]?(html|message|mensagem|mensaje|msg|body|conteudo|content|assunto|subject|sujeito|asunto|text)['"]?\s{0,3}\]/ nocase
        $flist = /file\s{0,3}\(\s{0,3}\$_FILES\s{0,3}\[|\$_FILES\s{0,3}\[[^\]\n]{1,30}\]\s{0,3}\[\s{0,3}['"]tmp_name['"]/ nocase
        $plist = /explode\s{0,3}\(\s{0,3}["'](\\n|\\r\\n|,|;)["']\s{0,3},\s{0,3}\$/ nocase
        $s1 = /\bu?sleep\s{0,5}\(/ nocase
        $s2 = /Content-Type:\s{0,3}text\/html/ nocase
        $s3 = "X-Mailer" nocase
        $s4 = /X-Priority/ nocase
        $s5 = /\b(mt_rand|rand|str_shuffle|uniqid)\s{0,5}\(/ nocase
        $s6 = /set_time_limit\s{0,5}\(\s{0,5}0\s{0,5}\)/ nocase
        $s7 = /ini_set\s{0,5}\(\s{0,5}['"]max_execution_time/ nocase
        $class = /class\s{1,5}PHPMailer\b/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        filesize < 512KB and $mail and $loop and $body and ($flist or $plist) and 2 of ($s*)
        and not $class and not $lic and fim_php_mailer_not_asset and chain != "strip-comments"
}

rule fim_php_mailer_request_file_publisher
{
    meta:
        author = "fim project"
        description = "Content publisher: directory, file name and content of a new file all come from request parameters (often behind a shared password): spam pages pushed onto the site remotely."
        family = "php_mailer"
        severity = "high"
        looks_for = "$path = $_REQUEST['pathname']; $name = $_REQUEST['filename']; $body = $_REQUEST['body']; mkdir(...); fwrite(fopen($path.$name, 'w'), $body);"
    strings:
        $p = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}=\s{0,3}(trim|stripslashes|urldecode)?\s{0,3}\(?\s{0,3}\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"](path|pathname|dir|dirname|folder)['"]\s{0,3}\]/ nocase
        $f = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}=\s{0,3}(trim|stripslashes|urldecode)?\s{0,3}\(?\s{0,3}\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"](file|filename|fname|name|page)['"]\s{0,3}\]/ nocase
        $b = /\$[a-zA-Z_\x7f-\xff][\w\x7f-\xff]{0,30}\s{0,3}=\s{0,3}(trim|stripslashes|urldecode|base64_decode)?\s{0,3}\(?\s{0,3}\$_(POST|GET|REQUEST)\s{0,3}\[\s{0,3}['"](body|content|data|html|text|code)['"]\s{0,3}\]/ nocase
        $w = /\b(fwrite|fputs|file_put_contents)\s{0,5}\(/ nocase
        $lic = /@license\b|General Public License|Licensed under the|SPDX-License-Identifier/ nocase
    condition:
        filesize < 16KB and $p and $f and $b and $w and not $lic and fim_php_mailer_not_asset and chain != "strip-comments"
}
