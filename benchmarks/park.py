#!/usr/bin/env python3
"""Park-scale benchmark (issue 16, item 4): 2,000 meters x 30 points on 16 buses, every 10 s.

Some buses are Modbus RTU lines over socat pty pairs (a `sitegate simulate --rtu` process on the other end of
each), the rest Modbus TCP buses to one `sitegate simulate` (each bus its own connection); a private mosquitto on
a free port. Measures `sitegate check` and `sitegate plan` (time, peak RSS, plan lines), the agent's start-up
(process start to READY=1 on its NOTIFY_SOCKET, to the first poll committed), steady CPU per 1,000 readings and
RSS, missed ticks and devices answering (`sitegate status`), the busiest bus's utilisation, and where the memory
goes (smaps: file-backed pages, thread stacks, malloc arenas, the rest), then the same with glibc's default number
of malloc arenas (the agent keeps to 2) and the slope per device from a run of 400 devices.

Debian's python3 only (no pip). Usage:
  park.py SITEGATE_BINARY [--seconds N] [--warmup N] [--rtu-buses N] [--rtu-meters N] [--baud N] [--quick] [--keep]
Prints markdown, then `figure:` lines for benchmarks/compare.py.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from footprint import free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUSES = 16
DEVICES = 2000
POINTS = 30  # per bench-30 meter: 30 float32 in one 60-register read
INTERVAL_S = 10


class Children:
    """Every process this run starts, stopped by pid at the end, also on failure."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=30):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p, timeout=10)


def start_broker(children, work):
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n")
    children.start(["mosquitto", "-c", conf])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def wait_for(path, pattern, what, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path):
            m = re.search(pattern, open(path).read())
            if m:
                return m
        time.sleep(0.05)
    raise SystemExit(f"{what} did not start (see {path})")


def start_tcp_simulator(children, sitegate, work, units):
    out = os.path.join(work, "sim-tcp.out")
    children.start([sitegate, "simulate", "--model", "bench-30", "--maps", os.path.join(ROOT, "benchmarks/maps"),
                    "--units", ",".join(str(u) for u in range(1, units + 1)), "--port", "0"], stdout=open(out, "w"))
    return int(wait_for(out, r"listening on .*:(\d+)", "the TCP simulator").group(1))


def start_rtu_line(children, sitegate, work, index, units, baud):
    """A socat pty pair (a null-modem cable in software) with the simulator on one end; returns the agent's end."""
    a, b = os.path.join(work, f"tty{index}a"), os.path.join(work, f"tty{index}b")
    children.start(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"])
    for _ in range(200):
        if os.path.exists(a) and os.path.exists(b):
            break
        time.sleep(0.05)
    else:
        raise SystemExit("socat made no ptys")
    out = os.path.join(work, f"sim-rtu{index}.out")
    children.start([sitegate, "simulate", "--model", "bench-30", "--maps", os.path.join(ROOT, "benchmarks/maps"),
                    "--units", ",".join(str(u) for u in range(1, units + 1)), "--rtu", b, "--baud", str(baud)],
                   stdout=open(out, "w"))
    wait_for(out, r"serving", f"the RTU simulator on {b}")
    return a


def bus_sizes(devices, rtu_buses, rtu_meters):
    """Meters per bus: the RTU lines first, the rest spread evenly over the TCP buses."""
    tcp_buses = BUSES - rtu_buses
    rest = devices - rtu_buses * rtu_meters
    return [rtu_meters] * rtu_buses + [rest // tcp_buses + (1 if i < rest % tcp_buses else 0) for i in range(tcp_buses)]


def write_config(work, name, sizes, rtu_ports, sim_port, broker_port, baud):
    buses, devices = [], []
    for b, size in enumerate(sizes):
        bus = f"line{b + 1:02d}"
        if b < len(rtu_ports):
            buses.append(f"  - {{ id: {bus}, rtu: {{ device: {rtu_ports[b]}, baud: {baud}, parity: none }}, "
                         f"response_timeout: 500ms }}")
        else:
            buses.append(f"  - {{ id: {bus}, tcp: {{ host: 127.0.0.1, port: {sim_port} }} }}")
        devices += [f"  - {{ id: {bus}-m{u:03d}, bus: {bus}, unit: {u}, model: bench-30, interval: {INTERVAL_S}s }}"
                    for u in range(1, size + 1)]
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""site: {{ id: park, gateway: gw01 }}
mqtt: {{ url: "mqtt://127.0.0.1:{broker_port}", topic_prefix: gia/v1 }}
buffer: {{ path: {work}/{name}.db }}
control_socket: {work}/{name}.sock
maps: [{ROOT}/benchmarks/maps]
buses:
{chr(10).join(buses)}
devices:
{chr(10).join(devices)}
""")
    return path


def measured(args, work, name):
    """Runs a command to its end with its output in files: (seconds, peak RSS KiB, exit code, stdout, stderr,
    CPU seconds). On a loaded machine the CPU seconds say more than the wall-clock ones."""
    out_path, err_path = os.path.join(work, f"{name}.out"), os.path.join(work, f"{name}.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.monotonic()
        p = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.monotonic() - start
    return (elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status), open(out_path).read(), open(err_path).read(),
            usage.ru_utime + usage.ru_stime)


def proc_status(pid):
    figures = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
                figures[key] = int(value.split()[0])
    return figures


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def smaps_breakdown(pid):
    """Resident KiB by kind of mapping. Thread stacks: an 8 MiB-or-so anonymous mapping right after a guard page;
    glibc malloc arenas (other than the main one, [heap]): a read-write part followed by an inaccessible reserve,
    the two together 64 MiB; file-backed: the binary and shared libraries; the rest: large mmap'd allocations."""
    maps = []
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                current = {"lo": lo, "hi": hi, "perms": head[1], "inode": head[4],
                           "name": head[5] if len(head) > 5 else "", "rss": 0}
                maps.append(current)
            elif head and head[0] == "Rss:":
                current["rss"] = int(head[1])
    kinds = {"file-backed (binary, libraries)": 0, "main heap ([heap])": 0, "thread stacks": 0,
             "malloc arenas (threads')": 0, "other anonymous": 0}
    counts = {"thread stacks": 0, "malloc arenas (threads')": 0}
    arenas = []
    for i, m in enumerate(maps):
        size = m["hi"] - m["lo"]
        if m["inode"] != "0" and m["name"].startswith("/"):
            kind = "file-backed (binary, libraries)"
        elif m["name"] == "[heap]":
            kind = "main heap ([heap])"
        elif m["name"].startswith("["):
            kind = "other anonymous"
        else:
            prev = maps[i - 1] if i else None
            nxt = maps[i + 1] if i + 1 < len(maps) else None
            guard_before = prev and prev["perms"].startswith("---") and prev["hi"] == m["lo"]
            reserve_after = nxt and nxt["perms"].startswith("---") and nxt["lo"] == m["hi"]
            if m["perms"].startswith("---"):
                continue
            if reserve_after and (nxt["hi"] - m["lo"]) == 64 << 20:
                kind = "malloc arenas (threads')"
            elif guard_before and (prev["hi"] - prev["lo"]) <= 64 << 10 and 64 << 10 <= size <= 16 << 20:
                kind = "thread stacks"
            elif size == 64 << 20:  # an arena grown to its whole reserve
                kind = "malloc arenas (threads')"
            else:
                kind = "other anonymous"
        kinds[kind] += m["rss"]
        if kind in counts:
            counts[kind] += 1
        if kind == "malloc arenas (threads')":
            arenas.append(m["rss"])
    counts["largest arenas"] = sorted(arenas, reverse=True)[:3]
    return kinds, counts


class NotifySocket:
    """A datagram socket in the systemd notify protocol's place: records when READY=1 arrives."""

    def __init__(self, work, name):
        self.path = os.path.join(work, f"{name}.notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.ready_at = None

    def poll(self):
        while self.ready_at is None:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return
            if b"READY=1" in data.split(b"\n"):
                self.ready_at = time.monotonic()

    def close(self):
        self.sock.close()


def status(sitegate, config):
    out = subprocess.run([sitegate, "status", "--config", config, "--json"], capture_output=True, text=True)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return None


def startup_ms(text, message):
    for line in text.splitlines():
        if message in line:
            m = re.search(r"\bstartup\.ms=(\d+)", line)
            if m:
                return int(m.group(1))
    return None


def run_agent(children, sitegate, work, config, name, warmup, seconds, env_extra=None):
    """Starts the agent, waits for READY and its first commit, then for warm-up and a steady window; returns the
    figures. The agent runs with --log-level info (the start-up lines), to a file."""
    notify = NotifySocket(work, name)
    env = dict(os.environ, NOTIFY_SOCKET=notify.path, **(env_extra or {}))
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    log_path = os.path.join(work, f"{name}.log")
    started_wall = time.time()
    started = time.monotonic()
    agent = children.start([sitegate, "run", "--config", config, "--log-level", "info"], stderr=open(log_path, "w"),
                           env=env)
    first_commit = None
    ready_cpu = None
    deadline = started + INTERVAL_S + 60
    while time.monotonic() < deadline and (notify.ready_at is None or first_commit is None):
        time.sleep(0.02)
        notify.poll()
        if notify.ready_at is not None and ready_cpu is None:
            ready_cpu = cpu_seconds(agent.pid)
        if agent.poll() is not None:
            raise SystemExit(f"the agent exited with {agent.returncode}; see {log_path}")
        first_commit = startup_ms(open(log_path).read(), "first poll committed")
    notify.close()
    ready_ms = (notify.ready_at - started) * 1000 if notify.ready_at else None
    # The first tick: the first 10-second wall-clock boundary after the agent was READY (ticks are aligned).
    ready_wall = started_wall + (ready_ms or 0) / 1000
    first_tick_ms = ((ready_wall // INTERVAL_S + 1) * INTERVAL_S - started_wall) * 1000

    # Warm-up, then the steady window, measured from tick boundaries so that both ends see the same work.
    time.sleep(max(0.0, warmup - (time.monotonic() - started)))
    before = status(sitegate, config)
    cpu0 = cpu_seconds(agent.pid)
    published0 = before["broker"]["published"] if before else 0
    t0 = time.monotonic()
    rss_peak = 0
    while time.monotonic() - t0 < seconds:
        time.sleep(1)
        rss_peak = max(rss_peak, proc_status(agent.pid)["VmRSS"])
    cpu1 = cpu_seconds(agent.pid)
    after = status(sitegate, config)
    if before is None or after is None:
        raise SystemExit(f"`sitegate status` did not answer; see {log_path}")
    figures = proc_status(agent.pid)
    breakdown, counts = smaps_breakdown(agent.pid)
    with open(f"/proc/{agent.pid}/smaps") as src, open(os.path.join(work, f"{name}.smaps"), "w") as dst:
        dst.write(src.read())  # kept for a closer look
    children.stop(agent)
    reads = sum(b["reads_ok"] for b in after["buses"]) - sum(b["reads_ok"] for b in before["buses"])
    return {
        "ready_ms": ready_ms, "ready_cpu": ready_cpu, "first_commit_ms": first_commit, "first_tick_ms": first_tick_ms,
        "cpu": cpu1 - cpu0, "reads": reads, "published": after["broker"]["published"] - published0,
        "rss_peak_window": rss_peak, "proc": figures, "breakdown": breakdown, "counts": counts, "status": after,
        "log": log_path,
    }


def mib(kb):
    return kb / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sitegate")
    parser.add_argument("--seconds", type=int, default=60, help="steady window of the main run")
    parser.add_argument("--warmup", type=int, default=25, help="seconds from start to the steady window")
    parser.add_argument("--rtu-buses", type=int, default=4)
    parser.add_argument("--rtu-meters", type=int, default=32)
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--quick", action="store_true", help="the main run only (no memory comparison runs)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configs, logs, smaps, buffers)")
    args = parser.parse_args()
    sitegate = os.path.abspath(args.sitegate)

    work = tempfile.mkdtemp(prefix="sitegate-park.")
    children = Children()
    try:
        broker_port = start_broker(children, work)
        sizes = bus_sizes(DEVICES, args.rtu_buses, args.rtu_meters)
        sim_port = start_tcp_simulator(children, sitegate, work, max(sizes[args.rtu_buses:] or [1]))
        rtu_ports = [start_rtu_line(children, sitegate, work, i, args.rtu_meters, args.baud)
                     for i in range(args.rtu_buses)]
        config = write_config(work, "park", sizes, rtu_ports, sim_port, broker_port, args.baud)

        check = measured([sitegate, "check", "--config", config], work, "check")
        if check[2] != 0:
            raise SystemExit(f"sitegate check refused the park config:\n{check[4]}")
        plan = measured([sitegate, "plan", "--config", config], work, "plan")
        plan_lines = plan[3].splitlines()
        plan_width = max(len(line) for line in plan_lines)
        bus_lines = [line for line in plan_lines if line.startswith("bus ")]
        summary = measured([sitegate, "plan", "--config", config, "--summary"], work, "plan-summary")

        main_run = run_agent(children, sitegate, work, config, "park", args.warmup, args.seconds)
        extra = {}
        if not args.quick:
            short = max(30, args.seconds // 2)
            # The agent keeps to 2 malloc arenas unless MALLOC_ARENA_MAX is set (MallocArenas): this run has glibc's
            # default of 8 per core, as before that limit.
            extra["arenas"] = run_agent(children, sitegate, work, config, "park-arenas", args.warmup, short,
                                        {"MALLOC_ARENA_MAX": str(8 * os.cpu_count())})
            small_sizes = bus_sizes(400, args.rtu_buses, min(args.rtu_meters, 400 // BUSES))
            small = write_config(work, "park-400", small_sizes, rtu_ports, sim_port, broker_port, args.baud)
            extra["small"] = run_agent(children, sitegate, work, small, "park-400", args.warmup, short)
    finally:
        children.stop_all()

    load = os.getloadavg()
    r = main_run
    st = r["status"]
    readings = r["reads"] * POINTS
    per_k = r["cpu"] / (readings / 1000) if readings else float("nan")
    answering = sum(1 for d in st["devices"] if d.get("state") == "ok")
    missed = {b["id"]: b.get("missed_ticks", 0) for b in st["buses"]}
    busiest = max(st["buses"], key=lambda b: b.get("utilisation", 0))
    rtu_busiest = max((b for b in st["buses"] if b["transport"].startswith("rtu")), key=lambda b: b.get("utilisation", 0),
                      default=None)
    tcp_meters = sizes[args.rtu_buses] if args.rtu_buses < BUSES else 0

    print(f"{DEVICES} bench-30 meters ({DEVICES * POINTS} points) every {INTERVAL_S} s on {BUSES} buses: "
          f"{args.rtu_buses} RTU lines of {args.rtu_meters} meters at {args.baud} baud 8N1 over socat pty pairs "
          f"(one `sitegate simulate --rtu` each), {BUSES - args.rtu_buses} TCP buses of {tcp_meters}-"
          f"{max(sizes[args.rtu_buses:] or [0])} meters to one `sitegate simulate`; a private mosquitto, QoS 1. "
          f"Load average {load[0]:.1f} on {os.cpu_count()} cores.")
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| `sitegate check` | {check[0]:.2f} s ({check[5]:.2f} CPU-s), {mib(check[1]):.1f} MiB peak RSS, "
          f"exit {check[2]} |")
    print(f"| `sitegate plan` | {plan[0]:.2f} s ({plan[5]:.2f} CPU-s), {mib(plan[1]):.1f} MiB peak RSS; {len(plan_lines)} lines, "
          f"{plan_width} columns at most ({len(bus_lines)} bus headers, a table of one row per device under each); "
          f"`--summary`: {len(summary[3].splitlines())} lines |")
    for line in bus_lines[:1] + bus_lines[args.rtu_buses:args.rtu_buses + 1] if args.rtu_buses else bus_lines[:1]:
        print(f"| plan header | `{line.strip()}` |")
    if r["ready_ms"] is None or r["first_commit_ms"] is None:
        raise SystemExit(f"no READY=1 or no first commit within {INTERVAL_S + 60} s; see {r['log']}")
    print(f"| start-up: process start to READY=1 | **{r['ready_ms']:.0f} ms** ({r['ready_cpu']:.2f} CPU-s by then) |")
    print(f"| start-up: first poll committed | {r['first_commit_ms']} ms after process start; its tick (the first "
          f"10 s boundary after READY) came at {r['first_tick_ms']:.0f} ms: "
          f"**{r['first_commit_ms'] - r['first_tick_ms']:.0f} ms** from tick to commit |")
    print(f"| steady window ({args.seconds} s after {args.warmup} s) | {r['reads']} polls, {readings} readings, "
          f"{r['published']} messages acknowledged, {r['cpu']:.2f} CPU-s: **{per_k:.4f} CPU-s per 1,000 readings** |")
    print(f"| RSS | peak over the window **{mib(r['rss_peak_window']):.1f} MiB**, peak since start (VmHWM) "
          f"{mib(r['proc']['VmHWM']):.1f} MiB; {r['proc']['Threads']} threads |")
    print(f"| ticks missed (all buses, since start) | **{sum(missed.values())}** "
          f"({', '.join(f'{k} {v}' for k, v in missed.items() if v) or 'none on any bus'}) |")
    print(f"| devices answering | **{answering} of {len(st['devices'])}** |")
    print(f"| busiest bus (measured) | {busiest['id']} ({busiest['transport']}): "
          f"{busiest.get('utilisation', 0) * 100:.1f}% busy, {busiest.get('transaction_ms') or 0:.2f} ms per transaction |")
    if rtu_busiest:
        print(f"| busiest RTU line (measured) | {rtu_busiest['id']}: {rtu_busiest.get('utilisation', 0) * 100:.1f}% busy, "
              f"{rtu_busiest.get('transaction_ms') or 0:.2f} ms per transaction (a pty has no baud rate: the line's "
              f"wire time is what `plan` estimates) |")
    print()

    print("Where the memory goes (at the end of each steady window; KiB resident, from /proc/PID/status and smaps):")
    print()
    runs = [("2,000 devices", r)]
    if extra:
        runs += [(f"2,000, MALLOC_ARENA_MAX={8 * os.cpu_count()} (glibc's default)", extra["arenas"]),
                 ("400 devices", extra["small"])]
    print("| | " + " | ".join(name for name, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    print("| VmRSS | " + " | ".join(f"{x['proc']['VmRSS']}" for _, x in runs) + " |")
    print("| RssAnon | " + " | ".join(f"{x['proc']['RssAnon']}" for _, x in runs) + " |")
    print("| RssFile | " + " | ".join(f"{x['proc']['RssFile']}" for _, x in runs) + " |")
    for kind in r["breakdown"]:
        print(f"| {kind} | " + " | ".join(
            f"{x['breakdown'][kind]}" + (f" ({x['counts'][kind]})" if kind in x["counts"] else "") for _, x in runs)
            + " |")
    print("| the largest arenas | " + " | ".join(
        ", ".join(str(kb) for kb in x["counts"]["largest arenas"]) for _, x in runs) + " |")
    print("| CPU-s per 1,000 readings | " + " | ".join(
        f"{x['cpu'] / (x['reads'] * POINTS / 1000):.4f}" if x["reads"] else "-" for _, x in runs) + " |")
    if extra:
        slope = (r["proc"]["RssAnon"] - extra["small"]["proc"]["RssAnon"]) / (DEVICES - 400)
        print()
        print(f"Per device (anonymous memory, 2,000 against 400 devices): **{slope:.1f} KiB**; the agent's 2 malloc "
              f"arenas against glibc's default: RssAnon "
              f"**{mib(r['proc']['RssAnon'] - extra['arenas']['proc']['RssAnon']):+.1f} MiB**.")
    print()
    print(f"figure: park_check_seconds {check[0]:.2f} s")
    print(f"figure: park_check_cpu_seconds {check[5]:.2f} s")
    print(f"figure: park_check_peak_rss {mib(check[1]):.1f} MiB")
    print(f"figure: park_plan_seconds {plan[0]:.2f} s")
    print(f"figure: park_plan_lines {len(plan_lines)} lines")
    print(f"figure: park_startup_ready {r['ready_ms']:.0f} ms")
    print(f"figure: park_tick_to_first_commit {r['first_commit_ms'] - r['first_tick_ms']:.0f} ms")
    print(f"figure: park_cpu_per_1000 {per_k:.4f} s")
    print(f"figure: park_peak_rss {mib(r['rss_peak_window']):.1f} MiB")
    print(f"figure: park_missed_ticks {sum(missed.values())} ticks")
    print(f"figure: park_devices_answering {answering} devices")
    print(f"figure: park_busiest_bus_utilisation {busiest.get('utilisation', 0) * 100:.1f} %")
    if extra:
        print(f"figure: park_peak_rss_default_arenas {mib(extra['arenas']['rss_peak_window']):.1f} MiB")
        print(f"figure: park_kib_per_device {slope:.1f} KiB")
    if args.keep:
        print(f"files: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
