<?php
// synthetic: eval of an entity-decoded, url-decoded, base64-decoded literal
$p = 'ZWNobyAxOw%3D%3D';
eval(htmlspecialchars_decode(urldecode(base64_decode($p))));
