<?php
// synthetic negative: a build step that runs a fixed command through pipes
$spec = array(0 => array('pipe', 'r'), 1 => array('pipe', 'w'), 2 => array('pipe', 'w'));
$p = proc_open('/bin/sh -c "make -s"', $spec, $pipes);
echo stream_get_contents($pipes[1]);
proc_close($p);
