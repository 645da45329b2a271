<?php
// synthetic negative: a contact form that validates the address it replies to
$email = filter_var($_POST['email'] ?? '', FILTER_VALIDATE_EMAIL);
if ($email) {
    mail('office@example.test', 'Contact form', strip_tags($_POST['message']), "Reply-To: $email");
}
