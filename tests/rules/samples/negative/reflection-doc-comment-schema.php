<?php
// synthetic negative: a settings loader reads doc comments through reflection and calls handlers
class Schema { /** @var string */ public $name; }
$r = new ReflectionClass('Schema');
foreach ($r->getProperties() as $p) {
    $doc = $p->getDocComment();
    $type = preg_match('/@var\s+(\w+)/', $doc, $m) ? $m[1] : 'mixed';
    echo call_user_func('strtoupper', $type), "\n";
}
