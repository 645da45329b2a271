<?php
// synthetic negative: a configured hashing function applied to a password field
$conf = ['password_hash' => 'password_hash_default'];
function password_hash_default(string $p): string { return password_hash($p, PASSWORD_DEFAULT); }
$row = ['pw' => $conf['password_hash']($_POST['password'])];
