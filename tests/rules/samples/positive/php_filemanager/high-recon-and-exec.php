<?php exit('inert fim test sample'); ?>
<?php
$info = array(
    'os' => php_uname(),
    'user' => get_current_user(),
    'uid' => getmyuid(),
    'disabled' => ini_get('disable_functions'),
    'basedir' => ini_get('open_basedir'),
    'safe' => ini_get('safe_mode'),
);
if (!empty($_REQUEST['go'])) {
    $info['id'] = exec('id');
    $info['ps'] = shell_exec('ps aux');
}
print_r($info);
?>
<form method="post"><input name="go" value="1"><input type="submit"></form>
