<?php
$lines = file($_FILES['list']['tmp_name']);
foreach ($lines as $rcpt) {
    MAIL(trim($rcpt), $_POST['s'], $_POST['m']);
}
