<?php @eval("?>".base64_decode("PD9waHAgZWNobyAxOyA/Pg=="));
