<?php
$f = create_function('', base64_decode('ZWNobyAxOw=='));
$f();
