<?php
if ('fedcba9876543210fedcba9876543210' === md5($_SERVER['HTTP_X_KEY'])) {
    echo 'ok';
}
