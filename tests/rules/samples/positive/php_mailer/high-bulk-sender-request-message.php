<?php
// synthetic: an uploaded address list and a posted HTML message sent in a loop
set_time_limit(0);
$html = $_POST['html'];
$subj = $_POST['subject'];
$list = file($_FILES['list']['tmp_name']);
$h = "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n";
for ($i = 0; $i < count($list); $i++) {
    mail(trim($list[$i]), $subj . ' ' . mt_rand(1, 999), $html, $h);
}
