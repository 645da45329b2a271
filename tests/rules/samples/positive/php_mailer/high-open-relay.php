<?php mail($_POST['to'], $_POST['subject'], $_POST['body'], "From: " . $_POST['from']); ?>
