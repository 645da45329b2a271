#!/usr/bin/perl
use strict;
use IO::Socket::INET;
use POSIX qw(setsid);
exit 0 if fork;
setsid();
open(STDIN, "</dev/null");
open(STDOUT, ">/var/log/queued.log");
open(STDERR, ">&STDOUT");
$0 = "queued: master";
my $srv = IO::Socket::INET->new(LocalPort => 7070, Listen => 5, ReuseAddr => 1);
while (my $c = $srv->accept()) { print $c "OK\n"; close $c; }
