<?php
// synthetic: a substitution-ciphered payload decoded and url-decoded through a variable
function sub($s, $t) {
    $o = '';
    for ($i = 0; $i < strlen($s); $i++) { $o .= isset($t[$s[$i]]) ? $t[$s[$i]] : $s[$i]; }
    $f = 'rawurl' . 'decode';
    return $f($o);
}
echo sub('%8m%8K', array('m' => '3', 'K' => '4'));
