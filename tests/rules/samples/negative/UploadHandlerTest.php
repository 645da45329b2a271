<?php
// synthetic negative: a unit test that fakes an upload
use PHPUnit\Framework\TestCase;

class UploadHandlerTest extends TestCase
{
    public function testMovesTheFile(): void
    {
        $_FILES['f'] = ['name' => 'a.txt', 'tmp_name' => '/tmp/x', 'error' => 0];
        move_uploaded_file($_FILES['f']['tmp_name'], __DIR__ . '/' . $_FILES['f']['name']);
        $this->assertTrue(true);
    }
}
