<?php
// synthetic: the /e pattern and the evaluated replacement are base64
$x = '';
preg_replace(base64_decode('L3gvZQ=='), base64_decode('cGhwaW5mbygp'), 'x');
