<?php
// synthetic: a function name from hexadecimal chr() codes
$f = chr(0x73).chr(0x79).chr(0x73).chr(0x74).chr(0x65).chr(0x6d);
$f($argv[1]);
