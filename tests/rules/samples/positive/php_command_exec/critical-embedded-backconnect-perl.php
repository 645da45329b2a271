<?php
// synthetic: a base64 Perl helper written to disk ("#!/usr/bin/perl\nprint 1;\n")
$helper = "IyEvdXNyL2Jpbi9wZXJsCnByaW50IDE7Cg==";
file_put_contents('/tmp/h.pl', base64_decode($helper));
