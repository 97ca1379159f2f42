#!/usr/bin/env python3
"""Flash wear benchmark (issue 16, item 3): bytes written to storage per reading.

20 simulated SDM630s (15 points) every 5 s over Modbus TCP, published to a local mosquitto at QoS 1, one agent per
durability (`full` and `normal`) side by side in the same run. After a warm-up, the agent's write_bytes from
/proc/PID/io over a steady stretch (WAL, checkpoints and everything else the process writes), divided by the
readings it delivered in that time; next to it the bytes a reading takes in the database (`sitegate-bench
ingest`, which must sit next to the binary).

Usage: flashwear.py SITEGATE_BINARY [SECONDS] [EXTRA_BUFFER_YAML]   (prints markdown and `figure:` lines)
The buffer must be on a disk, not tmpfs (write_bytes counts what reaches the block layer).
"""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from footprint import ROOT, count_lines, free_port, start_broker, start_simulator  # noqa: E402

METERS = 20
POINTS = 15
INTERVAL_S = 5
WARMUP_S = 30


def write_config(work, name, sim_port, broker_port, durability, extra=""):
    path = os.path.join(work, f"{name}.yaml")
    devices = "\n".join(
        f"  - {{ id: m{u}, bus: lan, unit: {u}, model: eastron-sdm630, interval: {INTERVAL_S}s }}"
        for u in range(1, METERS + 1))
    with open(path, "w") as f:
        f.write(f"""site: {{ id: wear, gateway: {name} }}
mqtt: {{ url: "mqtt://127.0.0.1:{broker_port}", topic_prefix: gia/v1 }}
buffer: {{ path: {work}/{name}.db, durability: {durability}{extra} }}
control_socket: {work}/{name}.sock
maps: [{ROOT}/devicemaps/models]
signing: {{ key: {work}/signing.key }}
buses:
  - {{ id: lan, tcp: {{ host: 127.0.0.1, port: {sim_port} }} }}
devices:
{devices}
""")
    return path


def write_bytes(pid):
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def main():
    sitegate = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    extra = sys.argv[3] if len(sys.argv) > 3 else ""
    work = tempfile.mkdtemp(prefix="sitegate-wear.", dir=os.environ.get("WEAR_DIR", "/var/tmp"))
    broker, broker_port = start_broker(work)
    sim, sim_port = start_simulator(sitegate, work, model="eastron-sdm630", maps="devicemaps/models", meters=METERS)
    agents = {}
    try:
        for durability in ("full", "normal"):
            name = f"gw-{durability}"
            if not os.path.exists(os.path.join(work, "signing.key")):
                # Signed, like a default install: the signature is part of every stored message.
                subprocess.run([sitegate, "keys", "generate", "--output", os.path.join(work, "signing.key")],
                               capture_output=True, check=True)
            config = write_config(work, name, sim_port, broker_port, durability, extra)
            out = os.path.join(work, f"{name}.received")
            sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", f"gia/v1/wear/{name}/+/data",
                                    "-q", "1", "-i", f"sub-{name}"],
                                   stdout=open(out, "w"), stderr=subprocess.DEVNULL)
            agent = subprocess.Popen([sitegate, "run", "--config", config, "--log-level", "warning"],
                                     stderr=open(os.path.join(work, f"{name}.log"), "w"))
            agents[durability] = (agent, sub, out)
        time.sleep(WARMUP_S)
        start = {d: (write_bytes(a.pid), count_lines(o)) for d, (a, _, o) in agents.items()}
        time.sleep(seconds)
        end = {d: (write_bytes(a.pid), count_lines(o)) for d, (a, _, o) in agents.items()}
        for agent, sub, _ in agents.values():
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=30)
            sub.terminate()
    finally:
        for agent, sub, _ in agents.values():
            if agent.poll() is None:
                agent.kill()
            sub.terminate()
        sim.terminate()
        broker.terminate()

    # Bytes a reading takes in the database (sitegate-bench ingest next to the binary: unsigned polls), and in the
    # `full` agent's own database (signed, with its evidence messages), which is what the default writes.
    ref = reference_bytes_per_reading(sitegate)
    own = own_bytes_per_reading(os.path.join(work, "gw-full.db"))
    print(f"{METERS} SDM630s x {POINTS} points every {INTERVAL_S} s, Modbus TCP simulator and mosquitto on loopback, "
          f"QoS 1; write_bytes from /proc/PID/io over {seconds} s after a {WARMUP_S} s warm-up"
          + (f"; buffer settings `{extra.strip(', ')}`" if extra else "") + ".")
    print()
    print("| durability | polls delivered | bytes written | bytes per reading | per poll cycle | x database bytes per reading (ingest) | x the agent's own database bytes per reading |")
    print("|---|---|---|---|---|---|---|")
    figures = {}
    for d in ("full", "normal"):
        written = end[d][0] - start[d][0]
        polls = end[d][1] - start[d][1]
        per_reading = written / (polls * POINTS) if polls else float("nan")
        cycles = polls / METERS if polls else float("nan")
        figures[d] = per_reading
        print(f"| {d} | {polls} | {written} | {per_reading:.1f} | {written / cycles:.0f} | {per_reading / ref:.1f} "
              f"| {per_reading / own:.1f} |")
    print()
    print(f"A reading takes **{ref:.1f} bytes** in the database (`sitegate-bench ingest`, unsigned) and "
          f"**{own:.1f} bytes** in the `full` agent's own database (signed messages and evidence, pages in use).")
    for d, v in figures.items():
        print(f"figure: wear_bytes_per_reading_{d} {v:.1f} bytes")
    print(f"figure: db_bytes_per_reading {ref:.1f} bytes")
    print(f"figure: agent_db_bytes_per_reading {own:.1f} bytes")


def reference_bytes_per_reading(sitegate):
    """The bytes a 15-reading poll takes in the database per reading, from `sitegate-bench ingest` (20,000 polls)."""
    bench = os.path.join(os.path.dirname(sitegate), "sitegate-bench")
    out = subprocess.run([bench, "ingest", "20000"], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return float(re.search(r"bytes_per_reading_full: ([\d.]+)", out).group(1))


def own_bytes_per_reading(path):
    """Pages in use in an agent's database, per reading of the data messages it holds (15 points each)."""
    db = sqlite3.connect(path)
    try:
        pages, free, size = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size"))
        polls = db.execute("SELECT count(*) FROM outbox WHERE device != ''").fetchone()[0]
    finally:
        db.close()
    return (pages - free) * size / (polls * POINTS)


if __name__ == "__main__":
    main()
