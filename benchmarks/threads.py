#!/usr/bin/env python3
"""Where the agent's CPU and memory go under the footprint load (issue 16; docs/performance.md, "CPU and memory").

footprint.py's setup (100 meters x 30 points every second, a simulator and mosquitto on loopback, unsigned unless
`signed` is given), then per thread over SECONDS after a 3 s warm-up: CPU time from /proc/PID/task/*/schedstat
(nanoseconds, steadier than footprint.py's whole-process ticks), context switches and minor page faults a second;
then RssAnon/RssFile and the resident memory per mapped file. No perf needed.

Usage: threads.py SITEGATE_BINARY [SECONDS] [signed]   (prints plain text)
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import footprint as fp  # noqa: E402


def threads(pid):
    """Per thread id: name, CPU seconds, context switches, minor faults."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu = int(f.read().split()[0]) / 1e9
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        switches = sum(int(m) for m in re.findall(r"voluntary_ctxt_switches:\s+(\d+)", status))
        faults = int(stat.rsplit(")", 1)[1].split()[7])
        out[tid] = (name, cpu, switches, faults)
    return out


def resident_by_file(pid):
    """Resident kB per mapped file ([anon] for anonymous mappings)."""
    by_file, current = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                current = parts[5] if len(parts) > 5 else "[anon]"
            elif line.startswith("Rss:"):
                by_file[current] = by_file.get(current, 0) + int(line.split()[1])
    return by_file


def main():
    sitegate = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    signed = len(sys.argv) > 3 and sys.argv[3] == "signed"
    work = tempfile.mkdtemp(prefix="sitegate-threads.")
    broker, broker_port = fp.start_broker(work)
    sim, sim_port = fp.start_simulator(sitegate, work)
    agent = sub = None
    try:
        signing = "off"
        if signed:
            key = os.path.join(work, "signing.key")
            subprocess.run([sitegate, "keys", "generate", "--output", key], capture_output=True, check=True)
            signing = f"{{ key: {key} }}"
        config = fp.write_config(work, sim_port, broker_port, "1s", signing=signing)
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", "gia/v1/bench/gw01/+/data", "-q", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        agent = subprocess.Popen([sitegate, "run", "--config", config, "--log-level", "warning"],
                                 stderr=open(os.path.join(work, "agent.log"), "w"))
        time.sleep(3)
        before = threads(agent.pid)
        time.sleep(seconds)
        after = threads(agent.pid)
        _, hwm, _ = fp.proc_figures(agent.pid)
        with open(f"/proc/{agent.pid}/status") as f:
            status = [line.strip() for line in f if line.startswith(("Rss", "Threads"))]
        files = resident_by_file(agent.pid)
    finally:
        if agent:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=30)
        if sub:
            sub.terminate()
        sim.terminate()
        broker.terminate()

    startup = sum(t[1] for t in before.values())
    total = sum(t[1] for t in after.values()) - startup
    readings = seconds * fp.METERS * 30
    print(f"first 3 s: {startup:.3f} CPU s; then {seconds} s: {total:.3f} CPU s = {total * 1000 / seconds:.1f} ms a second, "
          f"{total / (readings / 1000):.4f} s per 1,000 readings; peak RSS {hwm / 1024:.1f} MiB")
    print("; ".join(status))
    for tid, (name, cpu, switches, faults) in sorted(after.items(), key=lambda kv: -kv[1][1]):
        _, cpu0, switches0, faults0 = before.get(tid, (name, 0, 0, 0))
        print(f"  {name:16s} {(cpu - cpu0) * 1000 / seconds:6.2f} ms/s  {(cpu - cpu0) / total * 100:5.1f}%  "
              f"switches/s {(switches - switches0) / seconds:7.1f}  minor faults/s {(faults - faults0) / seconds:7.1f}")
    for name, kb in sorted(files.items(), key=lambda kv: -kv[1])[:14]:
        print(f"  {kb / 1024:6.1f} MiB {name}")


if __name__ == "__main__":
    main()
