<?php
// synthetic negative: a helper that runs a fixed program with an escaped argument
function ping_host($host) {
    exec('/bin/ping -c 1 ' . escapeshellarg($host), $out, $rc);
    return $rc === 0;
}
$ok = ping_host(filter_var($_POST['host'], FILTER_VALIDATE_IP) ?: '127.0.0.1');
echo $ok ? 'up' : 'down';
