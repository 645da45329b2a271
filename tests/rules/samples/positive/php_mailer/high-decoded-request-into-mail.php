<?php
// synthetic: every mail field arrives base64-encoded in the POST body
$rcpt = base64_decode($_POST['r']);
$subj = base64_decode($_POST['s']);
$body = base64_decode($_POST['b']);
if (mail($rcpt, $subj, $body)) { echo 'sent'; }
