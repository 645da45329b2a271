<?php
class TinyTemplate
{
    public function render($compiled, array $vars)
    {
        extract($vars);
        ob_start();
        eval('?>' . $compiled);
        return ob_get_clean();
    }
}
