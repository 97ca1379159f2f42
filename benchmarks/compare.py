#!/usr/bin/env python3
"""The summary of a `make bench` run: every figure of this run beside the previous run's.

Reads the figures the benchmarks printed (lines `figure: NAME VALUE UNIT` or `NAME: VALUE UNIT ...`), prints a
markdown table with the previous run's value of each (from benchmarks/figures.json) and writes this run's figures
there for the next run when KEY=VALUE labels (date=..., commit=...) are given.

Usage: compare.py FIGURES_TEXT [FIGURES_JSON [KEY=VALUE ...]]   (prints markdown)
"""
import json
import re
import sys

LINE = re.compile(r"^(?:figure: (\w+) |(\w+): )(-?[\d.]+|None) ?(\S*)")


def parse(text):
    figures = {}
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if not m:
            continue
        name = m.group(1) or m.group(2)
        value = None if m.group(3) == "None" else float(m.group(3))
        figures[name] = {"value": value, "unit": m.group(4)}
    return figures


def show(figure):
    if figure is None or figure["value"] is None:
        return "-"
    v = figure["value"]
    text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"
    return f"{text} {figure['unit']}".strip()


def main():
    current = parse(open(sys.argv[1]).read())
    path = sys.argv[2] if len(sys.argv) > 2 else "benchmarks/figures.json"
    try:
        with open(path) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        saved = {}
    previous = saved.get("figures", {})
    print("| figure | this run | previous run |")
    print("|---|---|---|")
    for name in list(current) + [n for n in previous if n not in current]:
        print(f"| {name} | {show(current.get(name))} | {show(previous.get(name))} |")
    print()
    print(f"Previous run: {saved.get('date', 'none recorded')}, commit {saved.get('commit', '-')}.")
    if len(sys.argv) > 3:
        meta = dict(arg.split("=", 1) for arg in sys.argv[3:])
        with open(path, "w") as f:
            json.dump({**meta, "figures": current}, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
