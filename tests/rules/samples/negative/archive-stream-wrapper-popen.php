<?php
// synthetic negative: a read-only stream wrapper that lists a 7z archive through popen
class ArchiveStream {
    private $h;
    public function stream_open($path, $mode, $options, &$opened) {
        $file = escapeshellarg(substr($path, strlen('arch://')));
        $this->h = popen('/usr/bin/7za e -so ' . $file, 'r');
        return $this->h !== false;
    }
    public function stream_read($n) { return fread($this->h, $n); }
}
stream_wrapper_register('arch', 'ArchiveStream');
