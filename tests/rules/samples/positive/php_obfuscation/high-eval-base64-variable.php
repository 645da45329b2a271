<?php
$p = 'ZWNobyAiaGkiOw==';
eval(base64_decode($p));
