<?php
// synthetic: a posted name turned into a command line for the shell
$f = $_POST['f'];
exec('echo "./' . basename($f) . '" | /bin/sh', $out, $rc);
echo implode("\n", $out);
