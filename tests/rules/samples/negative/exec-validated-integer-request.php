<?php
$size = (int) $_GET['size'];
if ($size < 16 || $size > 512) {
    http_response_code(400);
    exit;
}
exec('convert in.png -resize ' . escapeshellarg($size . 'x' . $size) . ' out.png');
