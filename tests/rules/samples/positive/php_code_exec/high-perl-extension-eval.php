<?php
// synthetic: Perl code run through the PHP Perl extension
$pl = new Perl();
$pl->eval('print `id`');
