<?php
// synthetic: hides the sending script from the message headers
ini_set('mail.add_x_header', 0);
$list = file('list.txt');
foreach ($list as $addr) {
    mail(trim($addr), 'Offer', 'Cheap stuff', "From: shop@example.test");
}
