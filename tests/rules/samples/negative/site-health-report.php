<?php
// admin-only environment report (no command execution)
$report = array(
    'os' => php_uname('s') . ' ' . php_uname('r'),
    'user' => get_current_user(),
    'free' => disk_free_space(__DIR__),
    'disabled' => ini_get('disable_functions'),
    'basedir' => ini_get('open_basedir'),
    'writable' => is_writable(__DIR__ . '/uploads'),
);
if (isset($_GET['format']) && $_GET['format'] === 'json') {
    echo json_encode($report);
}
?>
<form method="get"><select name="format"><option>json</option></select></form>
