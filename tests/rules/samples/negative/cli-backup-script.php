#!/usr/bin/env php
<?php
if (PHP_SAPI !== 'cli') {
    exit(1);
}
$target = $argv[1] ?? '/var/backups/site.tar.gz';
passthru('tar czf ' . escapeshellarg($target) . ' ' . escapeshellarg(__DIR__), $rc);
exit($rc);
