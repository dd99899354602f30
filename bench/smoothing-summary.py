#!/usr/bin/env python3
"""Sums up bench/smoothing.sh quality's table: for each synthetic camera, --smooth flow (or MODE) against off over the
seeds, all of them and the held-out ones (HELD_OUT, default 4 to 8): the mean change of each figure, its range, and on
how many seeds it went the wrong way. Reads the markdown table from the files given, or from stdin.

    bench/smoothing.sh quality 90 | tee quality.md; bench/smoothing-summary.py quality.md
"""
import fileinput
import os
import re
import statistics

MODE = os.environ.get("MODE", "flow")
HELD_OUT = {int(s) for s in os.environ.get("HELD_OUT", "4 5 6 7 8").split()}
ROW = re.compile(r"^\| synthetic (\w+), seed (\d+) \| (\w+) \|(.*)\|\s*$")


def number(cell):
    cell = cell.strip().rstrip("%").strip()
    return float(cell) if cell else None


rows = {}
for line in fileinput.input():
    m = ROW.match(line)
    if not m:
        continue
    cells = [number(c) for c in m.group(4).split("|")]
    # flicker, along the flow, depth change, mIoU, RMSE, boundary error
    rows[(m.group(1), int(m.group(2)), m.group(3))] = cells

# (name, column, relative change in %, decimals, lower is better)
FIGURES = [("flicker along the flow", 1, True, 0, True), ("mIoU (points)", 3, False, 2, False),
           ("RMSE (m)", 4, False, 4, True), ("boundary error (points)", 5, False, 2, True)]

print(f"| camera | seeds | " + " | ".join(f[0] for f in FIGURES) + " |")
print("|---|---|" + "---|" * len(FIGURES))
for motion in ("static", "walk", "turns"):
    seeds = sorted(s for (mo, s, mode) in rows if mo == motion and mode == "off" and (motion, s, MODE) in rows)
    for label, chosen in (("all", seeds), ("held out", [s for s in seeds if s in HELD_OUT])):
        if not chosen:
            continue
        cells = []
        for _, col, relative, decimals, lower_better in FIGURES:
            changes = []
            for s in chosen:
                off, new = rows[(motion, s, "off")][col], rows[(motion, s, MODE)][col]
                if off is None or new is None:
                    continue
                changes.append((new / off - 1) * 100 if relative else new - off)
            if not changes:
                cells.append("")
                continue
            worse = sum(1 for c in changes if (c > 0 if lower_better else c < 0))
            unit = " %" if relative else ""
            cells.append(f"{statistics.mean(changes):+.{decimals}f}{unit} ({min(changes):+.{decimals}f} to "
                         f"{max(changes):+.{decimals}f}), worse on {worse} of {len(changes)}")
        print(f"| {motion} | {label} ({', '.join(map(str, chosen))}) | " + " | ".join(cells) + " |")
