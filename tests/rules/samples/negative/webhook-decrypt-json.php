<?php
// synthetic negative: a payment webhook that decrypts its JSON body
$raw = file_get_contents('php://input');
$json = openssl_decrypt($raw, 'aes-256-cbc', getenv('HOOK_KEY'), 0, getenv('HOOK_IV'));
$event = json_decode($json, true);
file_put_contents(__DIR__ . '/events.log', $event['id'] . "\n", FILE_APPEND);
