<?php
// synthetic negative: a build helper checks that exec is available, no request input
if (!function_exists('proc_open') || !function_exists('exec')) {
    fwrite(STDERR, "this tool needs proc_open\n");
    exit(1);
}
exec('git rev-parse HEAD', $out);
echo $out[0], "\n";
