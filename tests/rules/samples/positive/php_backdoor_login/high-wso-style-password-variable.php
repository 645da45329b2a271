<?php $auth_pass = "63a9f0ea7bb98050796b649e85481845"; if (md5($_POST["pass"]) != $auth_pass) { die("login"); } echo 1;
