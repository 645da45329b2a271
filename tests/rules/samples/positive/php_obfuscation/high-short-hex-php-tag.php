<?php
// synthetic: a short PHP file hidden as hex ("<?@print 1;?>" written out)
fputs(fopen('n.php', 'w'), pack('H*', '3c3f407072696e7420313b3f3e3c3f407072696e7420313b3f3e'));
