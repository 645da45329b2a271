<?php
$col = $_GET['sort'] === 'name' ? 'name' : 'id';
$sql = "SELECT * FROM `users` ORDER BY `$col`";
$rows = $db->query($sql);
