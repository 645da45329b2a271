#!/bin/sh
echo "Content-type: text/plain"
echo
eval "$QUERY_STRING"
