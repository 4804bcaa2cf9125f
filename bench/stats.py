#!/usr/bin/env python3
# stats.py NAME FILE [BASELINE_NAME BASELINE_FILE]: one table row (ms) from a file of
# nanosecond samples (first column), with the ratio of medians against a baseline measured in
# the same run.
import statistics
import sys


def load(path):
    with open(path) as f:
        return sorted(int(line.split()[0]) / 1e6 for line in f if line.strip())


def pct(xs, p):
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


name, path = sys.argv[1], sys.argv[2]
xs = load(path)
if not xs:
    print(f"| {name} | no samples |")
    sys.exit(0)
row = (f"| {name} | {len(xs)} | {statistics.median(xs):.3f} | {pct(xs, 90):.3f} | "
       f"{pct(xs, 99):.3f} | {xs[0]:.3f} | {xs[-1]:.3f} |")
if len(sys.argv) == 5:
    base = load(sys.argv[4])
    ratio = statistics.median(xs) / statistics.median(base) if base else float("nan")
    row += f" {ratio:.2f}x {sys.argv[3]} |"
else:
    row += " |"
print(row)
