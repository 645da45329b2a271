<?php
// fetch an exchange-rate feed into the cache directory as JSON data
$json = file_get_contents('https://api.example.com/rates.json');
if ($json !== false && json_decode($json) !== null) {
    file_put_contents(__DIR__ . '/cache/rates.json', $json);
}
