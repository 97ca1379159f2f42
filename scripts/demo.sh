#!/usr/bin/env bash
# The demo: a private mosquitto and the simulator on free loopback ports, the agent on the demo site for about
# 20 seconds with its control socket in the demo folder, `sitegate status` halfway, and at the end one line per
# device from the messages the broker received. Everything it makes stays in the demo folder; it stops everything
# it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${SITEGATE_BIN:-.build/debug/sitegate}"
seconds="${DEMO_SECONDS:-20}"
python="${SITEGATE_PYTHON:-python3}"
work="$(mktemp -d /tmp/sitegate-demo.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# 1. A private broker.
broker_port="$(free_port)"
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n' "$broker_port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)

# 2. The simulator serving the demo site's meters; it prints the port it got.
"$bin" simulate --config devicemaps/sites/demo.yaml --port 0 > "$work/simulator.out" 2> "$work/simulator.log" &
pids+=($!)
for _ in $(seq 50); do grep -q "listening on" "$work/simulator.out" 2>/dev/null && break; sleep 0.1; done
sim_port="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/simulator.out")"
[ -n "$sim_port" ] || { echo "the simulator did not start:"; cat "$work/simulator.log"; exit 1; }
for _ in $(seq 50); do grep -q "listen socket on port $broker_port" "$work/mosquitto.log" && break; sleep 0.1; done

# 3. The demo site, pointed at those ports, with its buffer and control socket in the demo folder.
sed -e "s#mqtt://127.0.0.1:1883#mqtt://127.0.0.1:$broker_port#" \
    -e "s#port: 1502#port: $sim_port#" \
    -e "s#/tmp/sitegate-demo/buffer.db#$work/buffer.db#" \
    -e "s#- ../models#- $PWD/devicemaps/models#" \
    devicemaps/sites/demo.yaml > "$work/site.yaml"
echo "control_socket: $work/sitegate.sock" >> "$work/site.yaml"
"$bin" check --config "$work/site.yaml"

echo
echo "== broker on 127.0.0.1:$broker_port, simulator on 127.0.0.1:$sim_port; running the agent for ${seconds}s"
mosquitto_sub -h 127.0.0.1 -p "$broker_port" -t 'gia/v1/#' -v -q 1 > "$work/received.txt" &
pids+=($!)
"$bin" run --config "$work/site.yaml" 2> "$work/agent.log" &
agent=$!
pids+=($agent)
half=$((seconds / 2))
sleep "$half"

echo
echo "== sitegate status (after ${half}s; the agent answers on $work/sitegate.sock)"
"$bin" status --config "$work/site.yaml" || true
sleep "$((seconds - half))"
kill -TERM "$agent"
wait "$agent" || true
sleep 0.5

echo
echo "== the agent's log (first lines; all of it in $work/agent.log)"
head -n 6 "$work/agent.log"

echo
echo "== what the broker received, per device"
"$bin" buffer stats --config "$work/site.yaml" --json > "$work/buffer-stats.json"
"$python" scripts/demo_summary.py "$work/received.txt" "$work/buffer-stats.json" || true
if [ -s "$work/received.txt" ] && "$python" -c 'import jsonschema' 2>/dev/null; then
  printf 'schema check (docs/senml-pack.schema.json): '
  "$python" scripts/validate_senml.py "$work/received.txt" | tail -n 1
fi

echo
echo "== kept in $work:"
echo "   received.txt  every message as the broker delivered it (topic, then SenML JSON; one per line)"
echo "   agent.log     the agent's log;  site.yaml  the config it ran;  buffer.db  its buffer"
