<?php $x="create_"."function"; $y=$x("",base64_decode("ZWNobyAxOw==")); $y();
