<?php
function render($tpl, array $vars)
{
    return preg_replace_callback('/\{(\w+)\}/', function ($m) use ($vars) {
        return htmlspecialchars($vars[$m[1]] ?? '', ENT_QUOTES);
    }, $tpl);
}
echo render('<p>Hello {name}</p>', array('name' => $_GET['name'] ?? 'world'));
echo preg_replace('/\s+/', ' ', $_POST['text'] ?? '');
