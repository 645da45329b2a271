<?php
// synthetic negative: binary font table bytes written with hexadecimal chr() calls
$cmap = chr(0x28) . chr(0xBF) . chr(0x4E) . chr(0x5E) . chr(0x4E) . chr(0x75) . chr(0x8A) . chr(0x41);
$fn = 'pack';
$out = $fn('n', strlen($cmap)) . $cmap;
