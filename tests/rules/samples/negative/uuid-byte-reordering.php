<?php
// synthetic negative: reorders the bytes of a binary id, then calls a formatter
function reorder(string $bytes, callable $fmt): string
{
    $swapped = $bytes[6] . $bytes[7] . $bytes[4] . $bytes[5]
        . $bytes[0] . $bytes[1] . $bytes[2] . $bytes[3];
    return $fmt($swapped);
}
