<?php
if (sha1($_COOKIE['auth']) === '0123456789abcdef0123456789abcdef01234567') {
    echo 'welcome';
}
