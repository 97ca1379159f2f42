#!/usr/bin/env python3
"""The end of `make demo`: one line per device from the data messages a subscriber captured, then whether anything
was lost.

    scripts/demo_summary.py RECEIVED BUFFER_STATS_JSON

RECEIVED holds `mosquitto_sub -v` lines (`TOPIC PAYLOAD`); BUFFER_STATS_JSON is `sitegate buffer stats --json` of
the agent's buffer after it stopped. Nothing is lost when the buffer dropped no poll and the `seq` numbers
received (gateway-wide, one per message, docs/payload.md#delivery-and-seq) run without a gap up to the last one
the buffer handed out, but for the polls still waiting in it. Exit status 1 when something was lost or nothing was received.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    devices: dict[str, dict] = {}
    seqs: set[int] = set()
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            topic, _, payload = line.rstrip("\n").partition(" ")
            if not topic.endswith("/data"):
                continue  # status, meta, health
            records = json.loads(payload)
            seq = records[0]["seq"]
            if seq in seqs:
                continue  # QoS 1 may deliver a message twice
            seqs.add(seq)
            d = devices.setdefault(topic.split("/")[-2], {"messages": 0, "points": 0, "seq": [], "energy": []})
            d["messages"] += 1
            d["points"] = max(d["points"], len(records))
            d["seq"].append(seq)
            for r in records:
                if r.get("n") == "energy_import" and "v" in r:
                    d["energy"].append((seq, r["v"], r.get("u", "")))
    with open(sys.argv[2], encoding="utf-8") as f:
        stats = json.load(f)

    rows = [["DEVICE", "MESSAGES", "POINTS", "ENERGY_IMPORT FIRST -> LAST", "SEQ FIRST -> LAST"]]
    for name, d in devices.items():
        energy = sorted(d["energy"])
        shown = f"{energy[0][1]} -> {energy[-1][1]} {energy[0][2]}" if energy else "-"
        rows.append([name, str(d["messages"]), str(d["points"]), shown, f"{min(d['seq'])} -> {max(d['seq'])}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())

    if not seqs:
        print("nothing received")
        return 1
    first, last = min(seqs), max(seqs)
    missing = (last - first + 1) - len(seqs)
    problems = []
    if missing:
        problems.append(f"{missing} seq numbers between {first} and {last} never arrived")
    # Polls committed in the last moment before the stop wait in the buffer for the next start: not lost.
    if stats["last_seq"] != last + stats["depth"]:
        problems.append(
            f"the buffer handed out seq up to {stats['last_seq']}; received up to {last}, {stats['depth']} unsent"
        )
    if stats["drops"]:
        problems.append(f"{stats['drops']} polls dropped by the buffer")
    if problems:
        print("LOST: " + "; ".join(problems))
        return 1
    waiting = f"{stats['depth']} waiting in the buffer for the next start" if stats["depth"] else "0 unsent"
    print(f"nothing lost: {len(seqs)} messages, seq {first} -> {last} without a gap, {waiting}, 0 dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
