<?php
/**
 * Synthetic negative: a tiny class whose doc comment quotes `$options` in backticks.
 */
class Widget extends BaseWidget
{
}
