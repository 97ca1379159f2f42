#!/usr/bin/env python3
"""Footprint and start-up benchmark (issue 9).

100 simulated meters x 30 points, polled every second over Modbus TCP and published to a local mosquitto at QoS 1:
CPU seconds per 1,000 readings and peak RSS of the agent, against a plain C loop over the same libraries doing the
same reads and publishes, in the same run, and against the same loop committing each cycle to SQLite first (what
a durable buffer costs at the least). Then the agent's start-up: process start to first poll committed and
to first poll acknowledged by the broker.

Usage: footprint.py SITEGATE_BINARY C_LOOP_BINARY [SECONDS]   (prints markdown; FOOTPRINT_FIGURE_PREFIX=name_ prefixes
the `figure:` lines, for a second binary in the same report)
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

METERS = 100
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_broker(work):
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n")
    p = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def start_simulator(binary, work, model="bench-30", maps="benchmarks/maps", meters=METERS):
    """`sitegate simulate` serving `meters` units of `model` on a free port; returns the process and its port."""
    out = open(os.path.join(work, "sim.out"), "w+")
    p = subprocess.Popen([binary, "simulate", "--model", model, "--maps", os.path.join(ROOT, maps),
                          "--units", ",".join(str(u) for u in range(1, meters + 1)), "--port", "0"],
                         stdout=out, stderr=subprocess.DEVNULL)
    for _ in range(100):
        out.seek(0)
        m = re.search(r"listening on .*:(\d+)", out.read())
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    raise SystemExit("simulator did not start")


def proc_figures(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return cpu, hwm, rss


def write_config(work, sim_port, broker_port, interval, meters=METERS, signing="off"):
    path = os.path.join(work, f"site-{interval}-{'signed' if signing != 'off' else 'plain'}.yaml")
    devices = "\n".join(
        f"  - {{ id: m{u}, bus: lan, unit: {u}, model: bench-30, interval: {interval} }}" for u in range(1, meters + 1))
    with open(path, "w") as f:
        f.write(f"""site: {{ id: bench, gateway: gw01 }}
mqtt: {{ url: "mqtt://127.0.0.1:{broker_port}", topic_prefix: gia/v1 }}
buffer: {{ path: {work}/buffer-{interval}-{'signed' if signing != 'off' else 'plain'}.db }}
control_socket: {work}/control.sock
signing: {signing}
maps: [{ROOT}/benchmarks/maps]
buses:
  - {{ id: lan, tcp: {{ host: 127.0.0.1, port: {sim_port} }} }}
devices:
{devices}
""")
    return path


def bus_figures(sitegate, config):
    """The running agent's measured load of its one bus (`sitegate status --json`)."""
    out = subprocess.run([sitegate, "status", "--config", config, "--json"], capture_output=True, text=True)
    try:
        bus = json.loads(out.stdout)["buses"][0]
    except (ValueError, KeyError, IndexError):
        return {}
    return {k: float(bus[k]) for k in ("utilisation", "transaction_ms", "missed_ticks", "transactions")
            if isinstance(bus.get(k), (int, float))}


def startup_ms(log, message):
    """The startup.ms metadata of the log line carrying `message`. Journal lines put metadata after the message
    (`<6>... first poll committed startup.ms=79`); the metadata is looked for anywhere on that line."""
    for line in log.splitlines():
        if message in line:
            m = re.search(r"\bstartup\.ms=(\d+)", line)
            if m:
                return int(m.group(1))
    return None


def count_lines(path):
    with open(path) as f:
        return sum(1 for _ in f)


def main():
    sitegate, c_loop = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    work = tempfile.mkdtemp(prefix="sitegate-footprint.")
    broker, broker_port = start_broker(work)
    sim, sim_port = start_simulator(sitegate, work)
    try:
        # The C loop.
        c = subprocess.run([c_loop, "127.0.0.1", str(sim_port), str(METERS), str(broker_port), str(seconds)],
                           capture_output=True, text=True, check=True)
        m = re.search(r"cpu_seconds=([\d.]+) max_rss_kb=(\d+) readings=(\d+)", c.stdout)
        c_cpu, c_rss, c_readings = float(m.group(1)), int(m.group(2)), int(m.group(3))
        # The same loop committing each cycle to SQLite first (WAL, synchronous=FULL): the least the agent's
        # durable buffer costs, without the chain, the signatures and the acknowledgement bookkeeping.
        cb = subprocess.run([c_loop, "127.0.0.1", str(sim_port), str(METERS), str(broker_port), str(seconds),
                             os.path.join(work, "c-loop.db")], capture_output=True, text=True, check=True)
        m = re.search(r"cpu_seconds=([\d.]+) max_rss_kb=(\d+) readings=(\d+)", cb.stdout)
        cb_cpu, cb_rss, cb_readings = float(m.group(1)), int(m.group(2)), int(m.group(3))

        # The agent, over the same length of time: unsigned (the figures compared with the C loop), then signing
        # every message (issue 14: the cost of the evidence chain), one after the other in the same run.
        key = os.path.join(work, "signing.key")
        subprocess.run([sitegate, "keys", "generate", "--output", key], capture_output=True, check=True)
        runs = {}
        for signing in ("off", f"{{ key: {key} }}"):
            config = write_config(work, sim_port, broker_port, "1s", signing=signing)
            sub_out = os.path.join(work, f"received-{len(runs)}.txt")
            sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", "gia/v1/bench/gw01/+/data", "-q", "1"],
                                   stdout=open(sub_out, "w"), stderr=subprocess.DEVNULL)
            time.sleep(0.3)
            agent = subprocess.Popen([sitegate, "run", "--config", config, "--log-level", "warning"],
                                     stderr=open(os.path.join(work, f"agent-{len(runs)}.log"), "w"))
            time.sleep(seconds)
            figures = proc_figures(agent.pid)
            bus = bus_figures(sitegate, config)
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=30)
            time.sleep(0.5)
            sub.terminate()
            lines = count_lines(sub_out)
            size = os.path.getsize(sub_out) / lines if lines else 0
            runs["signed" if signing != "off" else "plain"] = (figures, lines * 30, bus, size)
        (a_cpu, a_hwm, a_rss), a_readings, bus, plain_size = runs["plain"]
        (s_cpu, _, _), s_readings, _, signed_size = runs["signed"]

        # Start-up: a fresh buffer, 10 meters on a 100 ms interval so that the first tick comes at once.
        config = write_config(work, sim_port, broker_port, "100ms", meters=10)
        log = os.path.join(work, "startup.log")
        agent = subprocess.Popen([sitegate, "run", "--config", config, "--log-level", "info"], stderr=open(log, "w"))
        commit = ack = None
        for _ in range(200):
            time.sleep(0.05)
            text = open(log).read()
            c_m = startup_ms(text, "first poll committed")
            a_m = startup_ms(text, "first poll acknowledged")
            commit, ack = c_m, a_m
            if commit is not None and ack is not None:
                break
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    finally:
        sim.terminate()
        broker.terminate()

    load = os.getloadavg()[0]
    c_per_k = c_cpu / (c_readings / 1000)
    cb_per_k = cb_cpu / (cb_readings / 1000)
    a_per_k = a_cpu / (a_readings / 1000) if a_readings else float("nan")
    print(f"{METERS} meters x 30 points every second for {seconds} s, Modbus TCP simulator and mosquitto on loopback.")
    print()
    print("| | readings | CPU s | CPU s per 1,000 readings | peak RSS |")
    print("|---|---|---|---|---|")
    print(f"| plain C loop (libmodbus + libmosquitto) | {c_readings} | {c_cpu:.2f} | {c_per_k:.4f} | {c_rss / 1024:.1f} MiB |")
    print(f"| the C loop committing each cycle to SQLite first (WAL, synchronous=FULL) | {cb_readings} | {cb_cpu:.2f} "
          f"| {cb_per_k:.4f} | {cb_rss / 1024:.1f} MiB |")
    print(f"| sitegate agent | {a_readings} | {a_cpu:.2f} | {a_per_k:.4f} | {a_hwm / 1024:.1f} MiB (now {a_rss / 1024:.1f}) |")
    print()
    print(f"CPU ratio sitegate / C: **{a_per_k / c_per_k:.2f}** (target <= 1.25); peak RSS **{a_hwm / 1024:.1f} MiB** "
          f"(target <= 18); load average during the run {load:.1f} on {os.cpu_count()} cores. Against the C loop "
          f"with a durable buffer: **{a_per_k / cb_per_k:.2f}**")
    if bus:
        print()
        print(f"The agent's one bus (100 meters behind one TCP endpoint, measured by the agent): "
              f"{bus.get('utilisation', 0) * 100:.1f}% busy, {bus.get('transaction_ms', 0):.2f} ms per transaction, "
              f"{int(bus.get('missed_ticks', 0))} ticks missed.")
    print()
    print(f"Start-up (10 meters, 100 ms interval, new buffer): first poll committed **{commit} ms** after process start, "
          f"first poll acknowledged by the broker **{ack} ms**.")
    print()
    s_per_k = s_cpu / (s_readings / 1000) if s_readings else float("nan")
    print(f"Signing every message (Ed25519, one message per meter and second, 30 readings each): **{s_per_k:.4f}** "
          f"CPU s per 1,000 readings against {a_per_k:.4f} unsigned, **{(s_per_k / a_per_k - 1) * 100:+.0f} %** "
          f"(target <= +15 %); a data message grows from {plain_size:.0f} to {signed_size:.0f} bytes "
          f"(+{signed_size - plain_size:.0f}: prev, kid, sig; prev is there unsigned too).")
    print()
    # FOOTPRINT_FIGURE_PREFIX names a second binary's figures apart (make bench: `shipped_` for make release's).
    prefix = os.environ.get("FOOTPRINT_FIGURE_PREFIX", "")
    print(f"figure: {prefix}footprint_signing_cpu_change {(s_per_k / a_per_k - 1) * 100:+.1f} %")
    print(f"figure: {prefix}footprint_signed_message_bytes {signed_size:.0f} B")
    print(f"figure: {prefix}footprint_unsigned_message_bytes {plain_size:.0f} B")
    print(f"figure: {prefix}footprint_cpu_ratio {a_per_k / c_per_k:.2f} x")
    print(f"figure: {prefix}footprint_cpu_per_1000_sitegate {a_per_k:.4f} s")
    print(f"figure: {prefix}footprint_cpu_per_1000_c {c_per_k:.4f} s")
    print(f"figure: {prefix}footprint_cpu_per_1000_c_buffered {cb_per_k:.4f} s")
    print(f"figure: {prefix}footprint_cpu_ratio_buffered {a_per_k / cb_per_k:.2f} x")
    print(f"figure: {prefix}footprint_peak_rss_sitegate {a_hwm / 1024:.1f} MiB")
    print(f"figure: {prefix}footprint_peak_rss_c {c_rss / 1024:.1f} MiB")
    if bus:
        print(f"figure: {prefix}footprint_bus_utilisation {bus.get('utilisation', 0) * 100:.1f} %")
        print(f"figure: {prefix}footprint_bus_transaction_ms {bus.get('transaction_ms', 0):.2f} ms")
        print(f"figure: {prefix}footprint_bus_missed_ticks {int(bus.get('missed_ticks', 0))} ticks")
    print(f"figure: {prefix}startup_first_commit {commit} ms")
    print(f"figure: {prefix}startup_first_ack {ack} ms")


if __name__ == "__main__":
    main()
