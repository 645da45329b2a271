<?php
const THUMB_SRC = '/var/lib/app/source.png';
exec('convert ' . escapeshellarg(THUMB_SRC) . ' -resize 64x64 ' . escapeshellarg(__DIR__ . '/thumb.png'), $out, $rc);
if ($rc !== 0) {
    error_log('thumbnail failed');
}
