<?php
// synthetic negative: a development server command registers a cleanup closure kept in a variable
$port = isset($_SERVER['argv'][1]) ? (int) $_SERVER['argv'][1] : 8000;
$cleanup = function () { @unlink(sys_get_temp_dir() . '/dev-router.php'); };
register_shutdown_function($cleanup);
passthru(PHP_BINARY . ' -S 127.0.0.1:' . $port);
