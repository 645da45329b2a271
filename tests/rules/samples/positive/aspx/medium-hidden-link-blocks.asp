<div style="position: absolute; top: -999px;left: -999px;"><a href="http://spam-one.example.invalid/">one</a></div>
<div style="position: absolute; top: -999px;left: -999px;"><a href="http://spam-two.example.invalid/">two</a></div>
<div style="position: absolute; top: -999px;left: -999px;"><a href="http://spam-three.example.invalid/">three</a></div>
<div style="position: absolute; top: -999px;left: -999px;"><a href="http://spam-four.example.invalid/">four</a></div>
<div style="position: absolute; top: -999px;left: -999px;"><a href="http://spam-five.example.invalid/">five</a></div>
