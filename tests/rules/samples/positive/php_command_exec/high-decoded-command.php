<?php
// synthetic: the command line hidden in base64 ("id")
echo shell_exec(base64_decode('aWQ='));
