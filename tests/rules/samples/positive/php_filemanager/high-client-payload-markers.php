<?php
// synthetic: output framed like a remote-admin client expects
echo("->|");
echo dirname(__FILE__) . "\t" . php_uname();
echo("|<-");
