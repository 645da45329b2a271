#!/usr/bin/env python3
"""Nightly report generator (command line, not CGI)."""
import argparse
import subprocess

p = argparse.ArgumentParser()
p.add_argument("--out", default="/var/reports/daily.csv")
args = p.parse_args()
subprocess.run(["/usr/local/bin/make-report", "--out", args.out], check=True)
