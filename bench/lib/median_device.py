#!/usr/bin/env python3
"""Prints the median (by files_per_s) of the DEVICE lines in the file given."""
import sys

lines = [l.rstrip() for l in open(sys.argv[1]) if l.startswith("DEVICE")]
vals = sorted(lines, key=lambda l: float(dict(kv.split("=", 1) for kv in l.split()[1:])["files_per_s"]))
print(vals[(len(vals) - 1) // 2])
