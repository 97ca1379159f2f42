#!/usr/bin/env python3
"""Soak run (issue 9): the agent against simulated meters with injected faults and broker restarts, for a set time.

Reports memory growth after warm-up (target: under 1 MB), readings lost (target: 0) and errors.
Usage: soak.py SITEGATE_BINARY [MINUTES]     (default 30 minutes; prints markdown)
"""
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from footprint import free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METERS = 20


def start_broker(work, port):
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                f"persistence true\npersistence_location {work}/\n")
    p = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    sitegate = sys.argv[1]
    minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 30
    work = tempfile.mkdtemp(prefix="sitegate-soak.")
    broker_port = free_port()
    broker = start_broker(work, broker_port)
    sim_out = open(os.path.join(work, "sim.out"), "w+")
    # Faults: every 50th request unanswered, every 97th answered with garbage, 5 ms latency, one dead meter.
    sim = subprocess.Popen([sitegate, "simulate", "--model", "eastron-sdm630", "--maps", os.path.join(ROOT, "devicemaps/models"),
                            "--units", ",".join(str(u) for u in range(1, METERS + 1)), "--port", "0",
                            "--drop-every", "50", "--garbage-every", "97", "--delay", "5ms", "--silent-units", str(METERS)],
                           stdout=sim_out, stderr=subprocess.DEVNULL)
    for _ in range(100):
        sim_out.seek(0)
        m = re.search(r"listening on .*:(\d+)", sim_out.read())
        if m:
            break
        time.sleep(0.05)
    sim_port = int(m.group(1))
    devices = "\n".join(f"  - {{ id: m{u}, bus: lan, unit: {u}, model: eastron-sdm630, interval: 1s, min_delay: 0ms }}"
                        for u in range(1, METERS + 1))
    config = os.path.join(work, "site.yaml")
    with open(config, "w") as f:
        f.write(f"""site: {{ id: soak, gateway: gw01 }}
mqtt: {{ url: "mqtt://127.0.0.1:{broker_port}", topic_prefix: gia/v1, reconnect_max: 5s, health_interval: 30s }}
buffer: {{ path: {work}/buffer.db }}
control_socket: {work}/control.sock
maps: [{ROOT}/devicemaps/models]
buses:
  - {{ id: lan, tcp: {{ host: 127.0.0.1, port: {sim_port} }}, response_timeout: 300ms }}
devices:
{devices}
""")
    received = os.path.join(work, "received.txt")
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", "gia/v1/soak/gw01/+/data",
                            "-t", "gia/v1/soak/gw01/evidence", "-q", "1", "-c",
                            "-i", "soak-recorder"], stdout=open(received, "w"), stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    agent = subprocess.Popen([sitegate, "run", "--config", config, "--log-level", "notice"],
                             stderr=open(os.path.join(work, "agent.log"), "w"))
    start = time.time()
    end = start + minutes * 60
    samples = []
    restarts = 0
    next_restart = start + min(300, minutes * 60 / 3)
    while time.time() < end:
        time.sleep(10)
        if agent.poll() is not None:
            raise SystemExit(f"the agent exited with {agent.returncode}; see {work}/agent.log")
        samples.append((time.time() - start, rss_kb(agent.pid)))
        if time.time() >= next_restart and time.time() + 40 < end:
            broker.send_signal(signal.SIGTERM)
            broker.wait()
            time.sleep(20)
            broker = start_broker(work, broker_port)
            restarts += 1
            next_restart = time.time() + min(300, minutes * 60 / 3)
    time.sleep(15)  # let the last backlog drain
    status = subprocess.run([sitegate, "status", "--json", "--socket", f"{work}/control.sock"], capture_output=True, text=True)
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=60)
    time.sleep(1)
    sub.terminate()
    broker.terminate()
    sim.terminate()

    db = sqlite3.connect(f"{work}/buffer.db")
    first = db.execute("SELECT value FROM meta WHERE key = 'first_seq'").fetchone()[0]
    last = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()[0]
    # Unsent rows only: acknowledged ones stay as the archive (their seqs in `settled`), and a message the broker
    # acknowledged but the subscriber never saw must count as lost.
    buffered = {r[0] for r in db.execute(
        "SELECT seq FROM outbox WHERE NOT EXISTS (SELECT 1 FROM settled WHERE outbox.seq BETWEEN first AND last)")}
    drops = (db.execute("SELECT value FROM meta WHERE key = 'drops'").fetchone() or [0])[0]
    seen = set()
    messages = 0
    with open(received) as f:
        for line in f:
            messages += 1
            message = json.loads(line)  # a data pack (list) or an evidence message (object)
            seen.add((message[0] if isinstance(message, list) else message)["seq"])
    lost = set(range(first, last + 1)) - seen - buffered
    warm = [kb for t, kb in samples if t >= min(120, minutes * 60 / 4)]
    growth = (warm[-1] - warm[0]) / 1024 if len(warm) > 1 else 0
    errors = {}
    try:
        for d in json.loads(status.stdout)["devices"]:
            for kind, n in d["errors"].items():
                errors[kind] = errors.get(kind, 0) + n
    except (ValueError, KeyError):
        pass
    print(f"Soak: {minutes:g} min, {METERS} SDM630s at 1 s (one dead), faults: every 50th request unanswered, every 97th "
          f"garbage, 5 ms latency; {restarts} broker restarts of 20 s.")
    print()
    print(f"- polls committed: {last - first + 1}; delivered (distinct): {len(seen)}; duplicates: {messages - len(seen)}; "
          f"still buffered: {len(buffered)}; dropped by bounds: {drops}; **lost: {len(lost)}** (target 0)")
    print(f"- memory: RSS {warm[0] / 1024 if warm else 0:.1f} MiB after warm-up, {warm[-1] / 1024 if warm else 0:.1f} MiB at the end: "
          f"**growth {growth:.2f} MiB** (target < 1)")
    print(f"- read errors by kind: {errors}")
    print(f"- files: {work}")
    sys.exit(0 if not lost and growth < 1 else 1)


if __name__ == "__main__":
    main()
