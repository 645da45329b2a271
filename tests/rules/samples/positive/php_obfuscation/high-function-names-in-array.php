<?php
// synthetic: every call goes through names stored in an array
$g = array();
$g['k1'] = 'chr';
$g['k2'] = 'ord';
$g['k3'] = 'str_rot13';
echo $g['k1'](65) . $g['k2']('A') . $g['k3']('nopq') . $g['k1'](66);
