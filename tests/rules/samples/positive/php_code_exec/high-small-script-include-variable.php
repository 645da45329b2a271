<?php
// synthetic: includes whatever path the request names
$page = $_GET['page'];
include($page);
