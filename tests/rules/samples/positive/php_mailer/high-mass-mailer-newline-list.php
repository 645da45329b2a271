<?php
$list = explode("\n", $_POST['emails']);
foreach ($list as $to) {
    mail(trim($to), $_POST['subject'], $_POST['body'], "From: " . $_POST['from']);
}
