<?php preg_replace("/.*/e", "\x65\x76\x61\x6c('echo 1;')", ".");
