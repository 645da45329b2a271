<?php
// synthetic negative: a sort order from the request, the callback is a closure
$dir = ($_GET['order'] ?? 'asc') === 'desc' ? -1 : 1;
$rows = [['n' => 2], ['n' => 1]];
usort($rows, function ($a, $b) use ($dir) {
    return $dir * ($a['n'] <=> $b['n']);
});
echo json_encode($rows);
