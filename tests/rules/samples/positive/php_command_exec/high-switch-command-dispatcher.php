<?php
// synthetic: a helper that runs a command with the function named by the caller
function run_with($cmd, $how) {
    $out = '';
    switch ($how) {
        case 'exec': exec($cmd, $lines); $out = implode("\n", $lines); break;
        case 'shell_exec': $out = shell_exec($cmd); break;
        case 'passthru': ob_start(); passthru($cmd); $out = ob_get_clean(); break;
    }
    return $out;
}
