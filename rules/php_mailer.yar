/*
 * php_mailer: mass mailers and spam senders - scripts that send mail in a
 * loop to recipient lists supplied in the request, or relay any message the
 * client asks for (recipient, subject, body and headers from the request).
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

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
        $mail = /[^\w>:$.\\]@?mail\s{0,5}\(/ nocase
        $loop = /\b(foreach|while|for)\s{0,5}\(/ nocase
    condition:
        filesize < 512KB and any of ($list*) and $mail and $loop
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
        $a = /[^\w>:$.\\]@?mail\s{0,5}\(\s{0,5}@?(stripslashes\s{0,5}\(\s{0,5}|trim\s{0,5}\(\s{0,5}|urldecode\s{0,5}\(\s{0,5}|base64_decode\s{0,5}\(\s{0,5})?\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^;{}]{1,200},[^;{}]{0,100}\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[/ nocase
    condition:
        $a
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
        $mail = /[^\w>:$.\\]@?mail\s{0,5}\(|->\s{0,3}(Send|send)\s{0,3}\(\s{0,3}\)/
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
        filesize < 512KB and $mail and $loop and $req and ($hdr or 3 of ($s*))
}
