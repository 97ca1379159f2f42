#!/usr/bin/env bash
# `make test-system`: the .deb under a live systemd. Debian 12 boots in systemd-nspawn (systemd as PID 1, private
# network) from a throwaway overlay of the cached root (scripts/fresh-root.sh system: minbase, systemd, mosquitto).
# The package is installed with apt, driven with systemctl against the simulator and mosquitto inside, upgraded to
# a version N+1 while the broker is down, removed and purged. The overlay is deleted afterwards; the log and the
# journal stay in .build-fresh/.
#
#   scripts/test-system.sh out/sitegate_VERSION_ARCH.deb
#
# Facts this relies on (systemd 252, a host whose PID 1 is not systemd): --keep-unit or nspawn fails opening the
# system bus; machinectl cannot reach the container, so commands enter it with nsenter; DeviceAllow= is enforced
# only with the unified cgroup hierarchy, CAP_BPF and the bpf system call; MemoryMax=/TasksMax= are not enforced.
# Inside the private network nothing else listens, so the simulator and the broker use fixed ports.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

deb="$(readlink -f "${1:?usage: test-system.sh out/sitegate_VERSION_ARCH.deb}")"
[ -f "$deb" ] || { echo "test-system.sh: no package $deb (run make deb)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "test-system.sh: needs root (overlayfs, systemd-nspawn)" >&2; exit 1; }
started=$SECONDS
lower="$(scripts/fresh-root.sh system)"
mkdir -p .build-fresh
log="$repo/.build-fresh/test-system.log"
: >"$log"
run="$(mktemp -d /var/tmp/sitegate-system.XXXXXX)"
root="$run/root"
mkdir -p "$run/upper" "$run/work" "$root"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$root"

nspawn=""
leader=""
cleanup() {
  if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
    kill -TERM "$nspawn" 2>/dev/null || true # nspawn asks the container's systemd to power off
    for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn" 2>/dev/null || true
    wait "$nspawn" 2>/dev/null || true
  fi
  umount "$root" 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT

CHECK_DIR="$run" CHECK_LOG="$log"
. "$(dirname "$0")/checks.sh"
# eventually SECONDS COMMAND...: retries the command every 0.5 s until it succeeds or the time is up.
eventually() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# Commands in the booted container: all its namespaces, a clean environment.
ct() { nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
show() { ct systemctl show -p "$2" --value "$1"; } # show UNIT PROPERTY
journal_cursor() { ct journalctl -n 1 --show-cursor -q -o cat | sed -n 's/^-- cursor: //p'; }
agent_active() { [ "$(show sitegate.service ActiveState)" = active ]; }

boot() {
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -q -D "$root" -b --register=no --keep-unit \
    --console=read-only --private-network --capability=CAP_BPF --system-call-filter=bpf >>"$run/console.log" 2>&1 &
  nspawn=$!
  leader=""
  for _ in $(seq 100); do
    leader="$(ps -o pid= --ppid "$nspawn" | head -n 1 | tr -d ' ' || true)"
    [ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ] && break
    leader=""
    sleep 0.1
  done
  [ -n "$leader" ] || { cat "$run/console.log" >&2; echo "test-system.sh: the container did not boot" >&2; exit 1; }
  # The manager's socket appears a moment after PID 1 starts.
  for _ in $(seq 100); do ct test -S /run/systemd/private && break; sleep 0.1; done
  timeout 60 nsenter -t "$leader" -a systemctl is-system-running --wait >/dev/null || true
}
# A reboot ends systemd-nspawn with status 133; boot the same overlay again.
reboot() {
  ct systemctl reboot || true
  local status=0
  wait "$nspawn" || status=$?
  nspawn=""
  [ "$status" -eq 133 ] || note "note: systemd-nspawn ended with $status on reboot"
  boot
}

# --- The packages: N as built, N+1 the same with a higher Version (dpkg-deb, whatever built N).
version="$(dpkg-deb --field "$deb" Version)"
next_version="$version+proof1"
dpkg-deb -R "$deb" "$run/next"
sed -i "s/^Version: .*/Version: $next_version/" "$run/next/DEBIAN/control"
mkdir -p "$root/root/packages"
dpkg-deb --root-owner-group -b "$run/next" "$root/root/packages/sitegate_next.deb" >/dev/null
cp "$deb" "$root/root/packages/sitegate.deb"

# The package's Depends come from the Debian mirror: fetched into apt's cache before boot, while the root still
# has the network; apt installs them from there.
note "== fetching the package's dependencies"
systemd-nspawn -q -D "$root" --register=no --keep-unit --pipe -E DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get install -y -qq --download-only /root/packages/sitegate.deb' >>"$log" 2>&1

# The site: two simulated meters on one Modbus TCP bus, the local mosquitto, a recorder of everything published.
site_config() { # site_config INTERVAL_OF_HALL [MODEL_OF_HALL]
  cat <<YAML
site:
  id: proof-park
  gateway: gw01
mqtt:
  url: mqtt://127.0.0.1:1883
  topic_prefix: gia/v1
buffer:
  path: /var/lib/sitegate/buffer.db
maps:
  - /usr/share/sitegate/devicemaps/models
buses:
  - id: plant-lan
    tcp: { host: 127.0.0.1, port: 1502 }
devices:
  - { id: incomer, bus: plant-lan, unit: 1, model: eastron-sdm630, interval: 1s }
  - { id: hall, bus: plant-lan, unit: 2, model: ${2:-eastron-sdm630}, interval: $1 }
YAML
}
cat >"$root/etc/systemd/system/sitegate-simulator.service" <<'UNIT'
[Unit]
Description=simulated meters for the system test
[Service]
ExecStart=/usr/bin/sitegate simulate --model eastron-sdm630 --units 1,2 --port 1502 --maps /usr/share/sitegate/devicemaps/models
[Install]
WantedBy=multi-user.target
UNIT
# A persistent QoS 1 session: mosquitto keeps what arrives while the recorder is down (reboots).
cat >"$root/etc/systemd/system/sitegate-recorder.service" <<'UNIT'
[Unit]
Description=records what the broker receives, for the system test
After=mosquitto.service
[Service]
ExecStart=/usr/bin/mosquitto_sub -h 127.0.0.1 -t gia/v1/# -v -q 1 -c -i sitegate-recorder
StandardOutput=append:/var/log/sitegate-received.txt
Restart=always
RestartSec=1s
[Install]
WantedBy=multi-user.target
UNIT
received="$root/var/log/sitegate-received.txt"
data_messages() { grep -c '/data ' "$received" 2>/dev/null || true; }
more_data_than() { [ "$(data_messages)" -gt "$1" ]; }

note "== booting Debian 12 with systemd in systemd-nspawn"
boot
note "booted: $(ct systemctl is-system-running || true), $(ct systemctl --version | head -n 1)"

# --- Install N.
check "apt installs the package (Depends from the mirror)" \
  ct apt-get install -y -q /root/packages/sitegate.deb
check "systemd knows the unit" test "$(show sitegate.service LoadState)" = loaded
check "the system user exists" ct id sitegate
check "the package made the signing key (0600, owner sitegate)" \
  test "$(ct stat -c %a:%U /etc/sitegate/signing.key)" = 600:sitegate
check "the shipped example config passes sitegate check" ct sitegate check --config /etc/sitegate/site.yaml
site_config 1s >"$root/etc/sitegate/site.yaml"
check "the test's site config passes sitegate check" ct sitegate check --config /etc/sitegate/site.yaml
check "simulator and recorder start" ct systemctl enable --now sitegate-simulator.service sitegate-recorder.service
clean_from="$(journal_cursor)"

# --- READY, STATUS, messages.
# restart, not start: a package that starts the agent on install (debhelper's default) has it on the example config.
ct systemctl enable sitegate.service
check "systemctl (re)start returns once the agent sent READY=1" ct systemctl restart sitegate.service
check "the agent is active (running)" test "$(show sitegate.service ActiveState)/$(show sitegate.service SubState)" = active/running
status_answering() { show sitegate.service StatusText | grep -q '2/2 devices answering.*broker connected'; }
check "STATUS shows 2/2 devices answering and the broker connected within 10 s" eventually 10 status_answering
note "     STATUS: $(show sitegate.service StatusText)"
check "data reaches the broker" eventually 20 more_data_than 4

# --- Reload, valid: same process, the change applied.
pid="$(show sitegate.service MainPID)"
site_config 2s >"$root/etc/sitegate/site.yaml"
check "systemctl reload succeeds" ct systemctl reload sitegate.service
reloaded() { ct journalctl -u sitegate.service --after-cursor="$clean_from" -q | grep -q 'reloaded /etc/sitegate/site.yaml'; }
check "the agent logged the reload" eventually 10 reloaded
check "reload kept the same process" test "$(show sitegate.service MainPID)" = "$pid"

# --- Clean stop, start again, reboot.
check "systemctl stop succeeds" ct systemctl stop sitegate.service
check "the agent exited cleanly (Result=success, status 0)" \
  test "$(show sitegate.service Result)/$(show sitegate.service ExecMainStatus)" = success/0
before="$(data_messages)"
check "systemctl start succeeds again" ct systemctl start sitegate.service
check "data flows after the restart" eventually 20 more_data_than "$before"
note "== rebooting the container"
reboot
check "the agent is active after the reboot" eventually 20 agent_active
before="$(data_messages)"
check "data flows after the reboot" eventually 30 more_data_than "$((before + 4))"
check "seq continuous across stop/start and reboot" python3 scripts/seq-check.py "$received"
errors() { ct journalctl -u sitegate.service -p err --after-cursor="$1" -q --no-pager; }
errors "$clean_from" >"$run/errors" 2>&1 || true
check "no error in the journal (start, reload, stop, reboot)" test ! -s "$run/errors"
sed 's/^/     /' "$run/errors" | head -n 20 | tee -a "$log"
check "live systemd-analyze security: exposure <= 2.0" \
  ct systemd-analyze security --no-pager --threshold=20 sitegate.service
note "     $(ct systemd-analyze security --no-pager sitegate.service | grep -a 'Overall exposure' || true)"

# --- Reload, invalid: refused with the place of the error, the running config stays in force.
pid="$(show sitegate.service MainPID)"
cursor="$(journal_cursor)"
site_config 2s eastron-sdm999 >"$root/etc/sitegate/site.yaml"
check "systemctl reload with an invalid config returns" ct systemctl reload sitegate.service
refused() { ct journalctl -u sitegate.service --after-cursor="$cursor" -q | grep -q 'reload refused'; }
check "the agent refused the invalid config" eventually 10 refused
names_place() { ct journalctl -u sitegate.service --after-cursor="$cursor" -q | grep -q 'site.yaml:[0-9]*:[0-9]*: error: unknown model'; }
check "the refusal names file:line:column" names_place
check "the same process runs on" test "$(show sitegate.service MainPID)/$(show sitegate.service ActiveState)" = "$pid/active"
before="$(data_messages)"
check "data flows on the old config" eventually 20 more_data_than "$((before + 2))"
site_config 2s >"$root/etc/sitegate/site.yaml"
check "reload with the config fixed" ct systemctl reload sitegate.service

# --- Watchdog: a hung bus thread stops the pings; systemd aborts the agent and starts it again.
mkdir -p "$root/etc/systemd/system/sitegate.service.d"
printf '[Service]\nEnvironment=SITEGATE_FAULT_HANG_BUS=plant-lan\nWatchdogSec=6s\n' \
  >"$root/etc/systemd/system/sitegate.service.d/hang.conf"
cursor="$(journal_cursor)"
ct systemctl daemon-reload
check "the agent starts with the hung-bus fault" ct systemctl restart sitegate.service
restarts() { [ "$(show sitegate.service NRestarts)" -ge 1 ]; }
check "systemd restarts the agent after the watchdog timeout" eventually 60 restarts
timed_out() { ct journalctl -u sitegate.service --after-cursor="$cursor" -q | grep -qi 'watchdog timeout'; }
check "the journal says: watchdog timeout" timed_out
withheld() { ct journalctl -u sitegate.service --after-cursor="$cursor" -q | grep -q 'withholding the watchdog ping'; }
check "the agent said why it withheld the ping" withheld
rm -r "$root/etc/systemd/system/sitegate.service.d"
ct systemctl daemon-reload
check "without the fault the agent runs again" ct systemctl restart sitegate.service
before="$(data_messages)"
check "data flows after the watchdog restart" eventually 20 more_data_than "$((before + 2))"

# --- Upgrade to N+1 while the broker is down: the agent buffers, restarts on the new package, loses nothing.
ct systemctl stop mosquitto.service
outage_start="$(date +%s.%N)"
sleep 5
pid="$(show sitegate.service MainPID)"
check "dpkg installs N+1 over N" ct dpkg -i /root/packages/sitegate_next.deb
check "the package is N+1 ($next_version)" test "$(ct dpkg-query -W -f '${Version}' sitegate)" = "$next_version"
check "the upgrade restarted the agent" test "$(show sitegate.service MainPID)" != "$pid"
check "the agent is active after the upgrade" test "$(show sitegate.service ActiveState)" = active
sleep 3
outage_end="$(date +%s.%N)"
ct systemctl start mosquitto.service
drained() { python3 scripts/seq-check.py "$received" --outage "$outage_start" "$outage_end" >/dev/null; }
check "after the outage the buffered readings arrive, seq continuous" eventually 60 drained
note "     $(python3 scripts/seq-check.py "$received" --outage "$outage_start" "$outage_end" || true)"

# --- Remove keeps config and buffer; purge removes config, buffer and the system user's files.
check "apt remove" ct apt-get remove -y -q sitegate
check "remove stopped the agent" test "$(show sitegate.service ActiveState)" != active
check "remove keeps /etc/sitegate/site.yaml" test -f "$root/etc/sitegate/site.yaml"
check "remove keeps the buffer" test -f "$root/var/lib/sitegate/buffer.db"
check "the package is in state config-files" test "$(ct dpkg-query -W -f '${db:Status-Status}' sitegate)" = config-files
uid="$(ct id -u sitegate)"
check "apt purge" ct apt-get purge -y -q sitegate
check "purge removes /etc/sitegate" test ! -e "$root/etc/sitegate"
check "purge removes /var/lib/sitegate" test ! -e "$root/var/lib/sitegate"
# Policy lets a package keep its system user (its uid may still own files elsewhere), not the user's files.
none_owned() { ! ct find / /run /tmp /var/tmp -xdev -uid "$uid" | grep .; }
check "purge leaves no file owned by the sitegate user (uid $uid)" none_owned

ct journalctl -b -1 --no-pager -o short-monotonic >"$repo/.build-fresh/test-system.journal" 2>/dev/null || true
ct journalctl -b 0 --no-pager -o short-monotonic >>"$repo/.build-fresh/test-system.journal" 2>/dev/null || true
note "test-system: $passed passed, $failed failed in $((SECONDS - started)) s (journal: .build-fresh/test-system.journal)"
[ "$failed" -eq 0 ]
