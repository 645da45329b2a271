<?php
if (password_verify($_POST['p'], '$2y$10$abcdefghijklmnopqrstuu1234567890abcdefghijklmnopqrstu')) {
    $_SESSION['in'] = 1;
}
