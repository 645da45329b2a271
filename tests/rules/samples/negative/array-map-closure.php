<?php
$ids = array_map('intval', $_POST['ids'] ?? array());
$tags = array_map(function ($v) { return trim(strip_tags($v)); }, (array) ($_GET['tags'] ?? array()));
$ids = array_filter($ids, function ($id) { return $id > 0; });
usort($tags, 'strcmp');
ob_start('ob_gzhandler');
register_shutdown_function(array('Logger', 'flush'));
call_user_func(array($controller, 'handle'), $_REQUEST);
echo json_encode(array('ids' => $ids, 'tags' => $tags));
