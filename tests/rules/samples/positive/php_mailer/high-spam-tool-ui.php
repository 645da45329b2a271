<?php exit('inert fim test sample'); ?>
<?php
set_time_limit(0);
$emails = $_POST['emaillist'];
$from = $_POST['from'];
$headers = "MIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n";
$headers .= "From: " . $from . "\r\nX-Mailer: Outlook\r\n";
$all = preg_split('/[\s,;]+/', $emails);
$i = 0;
while ($i < count($all)) {
    @mail($all[$i], $_POST['subject'] . ' #' . mt_rand(1, 99), $_POST['html'], $headers);
    usleep(200000);
    $i++;
}
?>
<form method="post"><textarea name="emaillist"></textarea><input name="from"></form>
