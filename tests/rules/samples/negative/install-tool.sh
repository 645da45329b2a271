#!/bin/sh
set -e
echo "Downloading the installer"
curl -fsSL -o /tmp/tool-install.sh https://downloads.example.org/tool/install.sh
chmod +x /tmp/tool-install.sh
sh /tmp/tool-install.sh
rm -f /tmp/tool-install.sh
echo "Done"
