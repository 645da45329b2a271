<?php
// synthetic: a tunnel relaying TCP through request commands
$cmd = $_SERVER['HTTP_X_CMD'] ?? '';
if ($cmd === 'CONNECT') {
    $s = fsockopen($_SERVER['HTTP_X_TARGET'], (int) $_SERVER['HTTP_X_PORT']);
    stream_set_blocking($s, false);
} elseif ($cmd === 'READ') {
    echo 'data';
} elseif ($cmd === 'FORWARD') {
    echo 'sent';
}
