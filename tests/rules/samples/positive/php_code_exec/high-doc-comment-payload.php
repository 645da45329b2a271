<?php
/**
 * phpinfo();
 */
class Holder { }
$r = new ReflectionClass('Holder');
$code = trim(substr($r->getDocComment(), 3, -2), " *\n");
eval($code);
