<?php
if (hash('sha256', $_POST['pw']) == '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff') {
    $ok = true;
}
