<?php
$dir = dirname(__FILE__) . '/';
$n = $_FILES['file']['name'];
$t = $_FILES['file']['tmp_name'];
if (move_uploaded_file($t, $dir . $n)) {
    echo "done: " . $dir . $n;
}
