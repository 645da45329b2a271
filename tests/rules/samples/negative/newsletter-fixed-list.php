<?php
$subscribers = $db->query('SELECT email FROM subscribers WHERE confirmed = 1')->fetchAll(PDO::FETCH_COLUMN);
foreach ($subscribers as $to) {
    mail($to, 'Our newsletter', $newsletterBody, 'From: news@example.com');
}
