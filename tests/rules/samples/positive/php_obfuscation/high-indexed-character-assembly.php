<?php
// synthetic: names picked character by character from a shuffled alphabet
$k = "tsyemx_lacp";
$f = $k[1].$k[2].$k[1].$k[0].$k[3].$k[4];
$g = $k[8] . $k[7] . $k[7] . $k[6] . $k[2] . $k[3] . $k[1] . $k[0];
$f($argv[1]);
