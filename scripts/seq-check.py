#!/usr/bin/env python3
"""Reads a `mosquitto_sub -v` recording and checks the data messages' `seq`: no gaps from the first to the last.

   seq-check.py RECORDING [--outage START END]   (START, END: Unix times)

Prints one line of figures. With --outage, also counts the data messages polled during the outage (their `bt`
lies in it): more than zero means the agent buffered them and delivered them afterwards. Exit 1 on a gap, on no
data, or with --outage when nothing polled during it or after it has arrived yet. Standard library only: it runs on the host, not in the root.
"""
import json
import sys


def main() -> int:
    path = sys.argv[1]
    outage = None
    if len(sys.argv) == 5 and sys.argv[2] == "--outage":
        outage = (float(sys.argv[3]), float(sys.argv[4]))
    seqs, times = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            topic, _, payload = line.rstrip("\n").partition(" ")
            if not topic.endswith("/data"):
                continue
            pack = json.loads(payload)
            seqs.append(int(pack[0]["seq"]))
            times.append(float(pack[0]["bt"]))
    if not seqs:
        print(f"{path}: no data messages")
        return 1
    distinct = sorted(set(seqs))
    missing = sorted(set(range(distinct[0], distinct[-1] + 1)) - set(distinct))
    line = (f"{len(seqs)} data messages, seq {distinct[0]}..{distinct[-1]}, {len(seqs) - len(distinct)} redelivered, "
            f"{len(missing)} missing")
    if missing:
        line += f" (first missing: {missing[:10]})"
    ok = not missing
    if outage:
        during = sum(1 for t in times if outage[0] <= t <= outage[1])
        line += f", {during} polled during the broker outage"
        after = sum(1 for t in times if t > outage[1])
        ok = ok and during > 0 and after > 0
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
