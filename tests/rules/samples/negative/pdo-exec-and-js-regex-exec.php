<?php
$pdo->exec('DELETE FROM sessions WHERE expires < ' . time());
$name = $_POST['name'] ?? '';
$stmt = $pdo->prepare('INSERT INTO t (name) VALUES (?)');
$stmt->execute(array($name));
?>
<script>
var m = /page=(\d+)/.exec(location.search);
var x = eval('(' + jsonText + ')');
</script>
