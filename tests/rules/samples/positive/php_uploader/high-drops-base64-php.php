<?php file_put_contents('x.php', base64_decode('PD9waHAgZWNobyAxOyA/Pg==')); ?>
