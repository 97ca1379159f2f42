#!/usr/bin/env python3
"""User-space instructions per reading, the agent against the plain C loop: a yardstick the neighbours cannot move
(issue 16, item 1; docs/performance.md, "The yardstick, fifth pass").

footprint.py's load (100 meters x 30 points every second, a simulator and mosquitto on loopback, QoS 1), each
program under valgrind's callgrind: its counters are zeroed 12 s after its start, between two cycles, and dumped
SECONDS later (60 by default: the once-a-minute work falls inside); readings are counted as the broker delivered
them in between. The C loop's figure repeats to a few hundredths of a percent, the agent's to about 3 % (its
WAL checkpoints fall into a window or not), where CPU time on this shared machine moves by a fifth within minutes.

What it does not see: the kernel (system calls, context switches, the page cache: 60-70 % of either program's
CPU time), and code that picks its instructions by the CPU it runs on. valgrind hides SHA-NI from OpenSSL, whose
SHA-256 then costs several times its native instructions: the buffer's chain hash is the largest item here and a
small one natively (docs/performance.md). Use it to compare two builds, not as the issue's ratio.

Usage: instructions.py SITEGATE_BINARY C_LOOP_BINARY [SECONDS] [TOP]   (the binary linked with symbols, or the top
functions are addresses; SECONDS 60 by default; TOP functions by their own instructions, 25 by default)
"""
import collections
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import footprint as fp  # noqa: E402


def measure(command, broker_port, seconds, work, name):
    """Instructions and delivered messages of `command` over a window of `seconds`; the dump's path."""
    received = os.path.join(work, f"received-{name}.txt")
    sub = fp.subscribe(broker_port, received)
    time.sleep(0.3)
    out = os.path.join(work, f"callgrind-{name}.out")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}"] + command,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(12)
    # Both programs poll at whole seconds and take well under 0.8 s a cycle under valgrind: no cycle is cut.
    now = time.time()
    time.sleep(int(now) + 1.8 - now)
    start = time.time()
    subprocess.run(["callgrind_control", "--zero", str(proc.pid)], capture_output=True, check=True)
    time.sleep(start + seconds - time.time())
    end = time.time()
    subprocess.run(["callgrind_control", "--dump", str(proc.pid)], capture_output=True, check=True)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    time.sleep(0.5)
    sub.terminate()
    sub.wait(timeout=10)
    dump = sorted(glob.glob(out + ".*"))[0]
    return totals(dump), fp.received(received, start, end)[0], dump


def totals(dump):
    with open(dump, errors="replace") as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit(f"instructions.py: no totals in {dump}")


def own_instructions(dump):
    """Instructions per function, the function's own (not its callees'), from a callgrind dump."""
    names, own = {}, collections.Counter()
    function, after_call = None, False
    with open(dump, errors="replace") as f:
        for line in f:
            m = re.match(r"^(c?)fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3)
                if not m.group(1):
                    function = m.group(2)
                continue
            if line.startswith("calls="):
                after_call = True  # the next cost line is the call's inclusive cost
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) >= 2 and not after_call:
                    own[function] += int(parts[1])
                after_call = False
    return {names.get(k, k): v for k, v in own.items()}


def main():
    sitegate, c_loop = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    if not shutil.which("valgrind"):
        raise SystemExit("instructions.py: needs valgrind (apt-get install valgrind)")
    work = tempfile.mkdtemp(prefix="sitegate-instructions.")
    # valgrind 3.19 (Debian 12) cannot read the DWARF 5 the toolchain writes; the symbol table is all it needs.
    plain = os.path.join(work, "sitegate")
    subprocess.run(["strip", "--strip-debug", "-o", plain, sitegate], check=True)
    broker, broker_port = fp.start_broker(work)
    sim, sim_port = fp.start_simulator(plain, work)
    try:
        c_ir, c_messages, _ = measure([c_loop, "127.0.0.1", str(sim_port), str(fp.METERS), str(broker_port),
                                       str(seconds + 20)], broker_port, seconds, work, "c")
        config = fp.write_config(work, sim_port, broker_port, "1s")
        a_ir, a_messages, a_dump = measure([plain, "run", "--config", config, "--log-level", "warning"],
                                           broker_port, seconds, work, "agent")
    finally:
        sim.terminate()
        broker.terminate()
    c_per, a_per = c_ir / (c_messages * 30), a_ir / (a_messages * 30)
    print(f"{fp.METERS} meters x 30 points every second, {seconds} s under callgrind after 12 s; user-space "
          f"instructions per reading:")
    print()
    print("| | messages delivered | instructions | per reading |")
    print("|---|---|---|---|")
    print(f"| plain C loop | {c_messages} | {c_ir:,} | {c_per:,.0f} |")
    print(f"| sitegate agent | {a_messages} | {a_ir:,} | {a_per:,.0f} |")
    print()
    print(f"Ratio sitegate / C: **{a_per / c_per:.2f}** (user space only; see the header for what it leaves out)")
    print()
    own = collections.Counter(own_instructions(a_dump)).most_common(top)
    demangled = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(n for n, _ in own),
                               capture_output=True, text=True).stdout.splitlines() if shutil.which("swift") else []
    print(f"The agent's {top} largest functions by their own instructions:")
    print()
    for i, (name, ir) in enumerate(own):
        label = demangled[i] if i < len(demangled) else name
        print(f"- {ir / a_ir * 100:5.2f} %  {label[:150]}")
    print()
    print(f"figure: instructions_per_reading_sitegate {a_per:.0f} Ir")
    print(f"figure: instructions_per_reading_c {c_per:.0f} Ir")
    print(f"figure: instructions_ratio {a_per / c_per:.2f} x")


if __name__ == "__main__":
    main()
