<?php
$in = ${"_P"."OST"};
$k = $in['k'];
