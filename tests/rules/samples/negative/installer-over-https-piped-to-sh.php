<?php
// synthetic negative: a hosting panel installs a certificate client from its https site
function install_client(string $adminMail): void
{
    exec('wget -O - https://get.client.example.test | sh -s email=' . escapeshellarg($adminMail), $out, $rc);
}
