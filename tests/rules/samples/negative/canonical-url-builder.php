<?php
// synthetic negative: builds the canonical URL of the current page and prints a link
$self = 'https://' . $_SERVER['HTTP_HOST'] . $_SERVER['REQUEST_URI'];
$share = 'https://share.example.test/add?url=' . rawurlencode($self);
echo '<a href="' . htmlspecialchars($share) . '">Share</a>';
