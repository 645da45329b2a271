<?php
// synthetic: the comparison callback of uksort comes from the request
$cb = $_REQUEST['sorter'];
$items = array('a' => 1, $_REQUEST['v'] => 2);
uksort($items, $cb);
