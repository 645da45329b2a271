<?php
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $email = filter_var($_POST['email'] ?? '', FILTER_VALIDATE_EMAIL);
    $message = strip_tags($_POST['message'] ?? '');
    if ($email && $message !== '') {
        $headers = "From: webmaster@example.com\r\nReply-To: " . $email . "\r\n";
        mail('contact@example.com', 'Contact form', $message, $headers);
        echo 'Thank you!';
    }
}
?>
<form method="post"><input name="email"><textarea name="message"></textarea><button>Send</button></form>
