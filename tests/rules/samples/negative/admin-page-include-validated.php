<?php
// synthetic negative: an admin page includes a theme file chosen from a known list
$theme = $_GET['theme'];
$known = ['light', 'dark'];
if (!in_array($theme, $known, true)) { exit; }
include(__DIR__ . '/themes/' . $theme . '/admin.inc.php');
