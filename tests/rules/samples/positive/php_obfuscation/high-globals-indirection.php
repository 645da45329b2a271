<?php
// synthetic: variables renamed into random $GLOBALS keys
$GLOBALS["kq"] = "p"; $GLOBALS["zx"] = "q"; $GLOBALS["wm"] = "r";
${${"GLOBALS"}["kq"]} = 1;
${${"GLOBALS"}["zx"]} = ${${"GLOBALS"}["kq"]} + 1;
${${"GLOBALS"}["wm"]} = ${${"GLOBALS"}["zx"]} * ${${"GLOBALS"}["kq"]};
echo ${${"GLOBALS"}["wm"]};
