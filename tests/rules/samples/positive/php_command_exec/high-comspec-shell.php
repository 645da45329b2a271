<?php
// synthetic: cmd.exe started through COMSPEC and fed a command
$spec = array(0 => array('pipe', 'r'), 1 => array('pipe', 'w'), 2 => array('pipe', 'w'));
$p = proc_open($_SERVER['COMSPEC'], $spec, $pipes);
fwrite($pipes[0], "dir\r\nexit\r\n");
echo stream_get_contents($pipes[1]);
