<?php
// synthetic: recipient straight from the query string
$to = $_GET['to'];
$headers = "From: bank@example.test\r\nContent-Type: text/html";
mail($to, 'Your invoice', file_get_contents('letter.html'), $headers);
