<?php
$stmt = $pdo->prepare('SELECT id, password_hash FROM users WHERE login = ?');
$stmt->execute(array($_POST['login'] ?? ''));
$row = $stmt->fetch();
if ($row && password_verify($_POST['password'] ?? '', $row['password_hash'])) {
    $_SESSION['uid'] = $row['id'];
}
if (sha1_file(__DIR__ . '/vendor.zip') !== '0123456789abcdef0123456789abcdef01234567') {
    throw new RuntimeException('checksum mismatch');
}
$etag = md5($content);
if (isset($_SERVER['HTTP_IF_NONE_MATCH']) && $_SERVER['HTTP_IF_NONE_MATCH'] === $etag) {
    http_response_code(304);
}
