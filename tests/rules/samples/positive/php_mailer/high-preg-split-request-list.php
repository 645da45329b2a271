<?php
$r = preg_split('/[\r\n,]+/', $_REQUEST['list']);
for ($i = 0; $i < count($r); $i++) {
    mail($r[$i], 'Hello', 'Body');
}
