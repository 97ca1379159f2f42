#!/usr/bin/env python3
"""Footprint and start-up benchmark (issue 9).

100 simulated meters x 30 points, polled every second over Modbus TCP and published to a local mosquitto at QoS 1:
CPU seconds per 1,000 readings and peak RSS of the agent, against a plain C loop over the same libraries doing the
same reads and publishes, in the same run, and against the same loop committing each cycle to SQLite first (what
a durable buffer costs at the least). Then the agent's start-up: process start to first poll committed and
to first poll acknowledged by the broker.

Each program is measured over a window of steady polling that opens WARMUP seconds after its start (the agent's
start-up is a figure of its own; until stop 23 it was counted into the CPU per reading, about 4 % of it), and
the C loop and the agent take turns, FOOTPRINT_ROUNDS times (2 unless set): on a shared machine the C loop's own
figure moved by a third between runs minutes apart, and a pair of windows side by side shares the same minutes.
The ratio is over all rounds (CPU summed over readings summed); each round's is printed too.

Usage: footprint.py SITEGATE_BINARY C_LOOP_BINARY [SECONDS]   (SECONDS: each window, 60 unless given; prints
markdown; FOOTPRINT_FIGURE_PREFIX=name_ prefixes the `figure:` lines, for a second binary in the same report)
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


WARMUP = 5  # seconds: start-up, the first connection and the first cycles fall before a window opens


def process_cpu(pid):
    """CPU seconds of a whole process (all its threads, also those that ended), in nanoseconds: the process CPU
    clock of another process (clock_getcpuclockid's id, computed: Python has no binding for it)."""
    return time.clock_gettime(((~pid) << 3) | 2)


def subscribe(broker_port, path):
    """mosquitto_sub writing one line per data message: its arrival time and its payload's length."""
    return subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", "gia/v1/bench/gw01/+/data", "-q", "1",
                             "-F", "%U %l"], stdout=open(path, "w"), stderr=subprocess.DEVNULL)


def received(path, start=float("-inf"), end=float("inf")):
    """Messages received between `start` and `end` (wall-clock seconds), and their mean payload size."""
    count = size = 0
    with open(path) as f:
        for line in f:
            at, length = line.split()
            if start <= float(at) < end:
                count += 1
                size += int(length)
    return count, size / count if count else 0


class Window:
    """One process measured over a steady window: from half a second past a whole second (both programs poll at
    whole seconds, so no cycle is cut in two) after the warm-up, for `seconds` whole cycles. Whole minutes, so that
    the agent's once-a-minute work (the health message, the deletion of acknowledged polls) falls into it as often
    as it does in a day."""

    def __init__(self, proc, sub, sub_out, seconds):
        self.proc, self.sub, self.sub_out = proc, sub, sub_out
        started = time.time()
        self.start = float(int(started + WARMUP)) + 1.5
        self.end = self.start + seconds
        time.sleep(max(0.0, self.start - time.time()))
        self.cpu_at_start = process_cpu(proc.pid)
        time.sleep(max(0.0, self.end - time.time()))
        self.cpu = process_cpu(proc.pid) - self.cpu_at_start
        self.cpu_whole = process_cpu(proc.pid)  # since the process started: the method before stop 23
        self.started = started

    def finish(self):
        """After the process and the subscriber ended: readings in the window, and since the start."""
        self.sub.wait(timeout=10)
        messages, self.message_size = received(self.sub_out, self.start, self.end)
        self.readings = messages * 30
        self.readings_whole = received(self.sub_out, end=self.end)[0] * 30
        return self


def run_c_loop(c_loop, sim_port, broker_port, seconds, work, name, buffer_path=None):
    sub_out = os.path.join(work, f"received-{name}.txt")
    sub = subscribe(broker_port, sub_out)
    time.sleep(0.3)
    args = [c_loop, "127.0.0.1", str(sim_port), str(METERS), str(broker_port), str(WARMUP + seconds + 3)]
    c = subprocess.Popen(args + ([buffer_path] if buffer_path else []), stdout=subprocess.PIPE, text=True)
    window = Window(c, sub, sub_out, seconds)
    out = c.communicate(timeout=30)[0]
    m = re.search(r"cpu_seconds=([\d.]+) max_rss_kb=(\d+) readings=(\d+)", out)
    if c.returncode != 0 or not m:
        raise SystemExit(f"the C loop failed: {out}")
    window.hwm = int(m.group(2))
    time.sleep(0.5)
    sub.terminate()
    return window.finish()


def run_agent(sitegate, sim_port, broker_port, seconds, work, name, signing="off"):
    config = write_config(work, sim_port, broker_port, "1s", signing=signing)
    # Each round starts from a new buffer, as the first did.
    buffer = re.search(r"buffer: \{ path: (\S+) \}", open(config).read()).group(1)
    for leftover in (buffer, buffer + "-wal", buffer + "-shm"):
        if os.path.exists(leftover):
            os.remove(leftover)
    sub_out = os.path.join(work, f"received-{name}.txt")
    sub = subscribe(broker_port, sub_out)
    time.sleep(0.3)
    agent = subprocess.Popen([sitegate, "run", "--config", config, "--log-level", "warning"],
                             stderr=open(os.path.join(work, f"agent-{name}.log"), "w"))
    window = Window(agent, sub, sub_out, seconds)
    _, window.hwm, window.rss = proc_figures(agent.pid)
    window.bus = bus_figures(sitegate, config)
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=30)
    time.sleep(0.5)
    sub.terminate()
    return window.finish()


def per_k(windows, whole=False):
    """CPU seconds per 1,000 readings over several windows: their CPU summed over their readings summed."""
    cpu = sum(w.cpu_whole if whole else w.cpu for w in windows)
    readings = sum(w.readings_whole if whole else w.readings for w in windows)
    return cpu / (readings / 1000) if readings else float("nan")


def main():
    sitegate, c_loop = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    rounds = int(os.environ.get("FOOTPRINT_ROUNDS", "2"))
    work = tempfile.mkdtemp(prefix="sitegate-footprint.")
    broker, broker_port = start_broker(work)
    sim, sim_port = start_simulator(sitegate, work)
    try:
        # The C loop and the agent by turns, `rounds` times: the machine's speed drifts over minutes (other
        # tenants), and each pair of windows shares what it was in those minutes.
        c_windows, a_windows = [], []
        for r in range(rounds):
            c_windows.append(run_c_loop(c_loop, sim_port, broker_port, seconds, work, f"c-{r}"))
            a_windows.append(run_agent(sitegate, sim_port, broker_port, seconds, work, f"agent-{r}"))
        # The same loop committing each cycle to SQLite first (WAL, synchronous=FULL): the least the agent's
        # durable buffer costs, without the chain, the signatures and the acknowledgement bookkeeping.
        cb = run_c_loop(c_loop, sim_port, broker_port, seconds, work, "c-buffered", os.path.join(work, "c-loop.db"))
        # Signing every message (issue 14: the cost of the evidence chain), next to the last unsigned window.
        key = os.path.join(work, "signing.key")
        subprocess.run([sitegate, "keys", "generate", "--output", key], capture_output=True, check=True)
        signed = run_agent(sitegate, sim_port, broker_port, seconds, work, "signed", signing=f"{{ key: {key} }}")

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
    c_per_k, a_per_k, cb_per_k, s_per_k = per_k(c_windows), per_k(a_windows), per_k([cb]), per_k([signed])
    ratio = a_per_k / c_per_k
    ratio_whole = per_k(a_windows, whole=True) / per_k(c_windows, whole=True)
    last = a_windows[-1]
    a_hwm, a_rss, bus = max(w.hwm for w in a_windows), last.rss, last.bus
    c_rss = max(w.hwm for w in c_windows)
    print(f"{METERS} meters x 30 points every second, Modbus TCP simulator and mosquitto on loopback. Each program "
          f"measured over {seconds} s windows of steady polling ({WARMUP} s after its start; CPU from the process's CPU "
          f"clock, readings as the broker delivered them); the C loop and the agent by turns, {rounds} rounds.")
    print()
    print("| round | C loop: readings, CPU s, per 1,000 | sitegate: readings, CPU s, per 1,000 | ratio |")
    print("|---|---|---|---|")
    for r, (c, a) in enumerate(zip(c_windows, a_windows), 1):
        print(f"| {r} | {c.readings}, {c.cpu:.3f}, {per_k([c]):.4f} | {a.readings}, {a.cpu:.3f}, {per_k([a]):.4f} "
              f"| {per_k([a]) / per_k([c]):.2f} |")
    print()
    print("| | CPU s per 1,000 readings | peak RSS |")
    print("|---|---|---|")
    print(f"| plain C loop (libmodbus + libmosquitto) | {c_per_k:.4f} | {c_rss / 1024:.1f} MiB |")
    print(f"| the C loop committing each cycle to SQLite first (WAL, synchronous=FULL) | {cb_per_k:.4f} "
          f"| {cb.hwm / 1024:.1f} MiB |")
    print(f"| sitegate agent | {a_per_k:.4f} | {a_hwm / 1024:.1f} MiB (now {a_rss / 1024:.1f}) |")
    print()
    print(f"CPU ratio sitegate / C over all rounds: **{ratio:.2f}** (target <= 1.25); peak RSS **{a_hwm / 1024:.1f} MiB** "
          f"(target <= 18); load average during the run {load:.1f} on {os.cpu_count()} cores. Against the C loop "
          f"with a durable buffer: **{a_per_k / cb_per_k:.2f}**. Counted from each process's start instead (its start-up "
          f"in the figure, as footprint.py did before): {ratio_whole:.2f}.")
    if bus:
        print()
        print(f"The agent's one bus (100 meters behind one TCP endpoint, measured by the agent): "
              f"{bus.get('utilisation', 0) * 100:.1f}% busy, {bus.get('transaction_ms', 0):.2f} ms per transaction, "
              f"{int(bus.get('missed_ticks', 0))} ticks missed.")
    print()
    print(f"Start-up (10 meters, 100 ms interval, new buffer): first poll committed **{commit} ms** after process start, "
          f"first poll acknowledged by the broker **{ack} ms**.")
    print()
    plain_size, signed_size = last.message_size, signed.message_size
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
    print(f"figure: {prefix}footprint_cpu_ratio {ratio:.2f} x")
    for r, (c, a) in enumerate(zip(c_windows, a_windows), 1):
        print(f"figure: {prefix}footprint_cpu_ratio_round_{r} {per_k([a]) / per_k([c]):.2f} x")
    print(f"figure: {prefix}footprint_cpu_ratio_from_start {ratio_whole:.2f} x")
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
