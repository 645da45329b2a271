<?php
// synthetic: chr reached through a variable, code assembled from codes
$c = chr(99) . chr(104) . chr(114);
$code = $c(101).$c(99).$c(104).$c(111).$c(32).$c(49).$c(59);
eval($code);
