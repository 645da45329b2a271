<?php
$f = strrev('tressa');
$f($x);
