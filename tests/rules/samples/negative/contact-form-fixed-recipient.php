<?php
// synthetic negative: a contact form that mails the site owner
$to = "owner@example.test";
$msg = strip_tags($_POST['message'] ?? '');
mail($to, 'Contact via ' . $_SERVER['HTTP_HOST'], $msg);
echo 'Thank you';
