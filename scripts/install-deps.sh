#!/usr/bin/env bash
# Installs the Debian packages sitegate needs to build, test and run the demo, plus any named as arguments (the
# packaging targets add theirs). Idempotent: installs only what is missing. Uses sudo when not root.
set -euo pipefail

packages=(
  pkg-config
  libmodbus-dev libmosquitto-dev libsqlite3-dev libyaml-dev   # C libraries sitegate links
  libssl-dev openssl                                          # TLS session details; test certificates
  mosquitto mosquitto-clients                                 # the broker and mosquitto_sub for demo and tests
  socat mbpoll                                                # serial pty pairs; an independent Modbus client
  python3 python3-jsonschema                                  # independent SenML schema validation in tests
  systemd                                                     # systemd-analyze, systemd-sysusers: unit file tests
  prometheus                                                  # promtool checks `sitegate metrics` in the tests
  rabbitmq-server                                             # a second broker (its MQTT plugin) in the tests
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The python3 first on PATH may not be Debian's (pyenv, venv): make sure it has the independent test tools, the
# jsonschema validator and pymodbus (a Modbus server written by others, pinned: its API changes between releases).
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  python3 -m pip install --quiet jsonschema || echo "warning: cannot install jsonschema; schema tests will fail" >&2
fi
if ! python3 -c 'import pymodbus, serial, sys; sys.exit(pymodbus.__version__ != "3.6.9")' 2>/dev/null; then
  python3 -m pip install --quiet "pymodbus[serial]==3.6.9" || echo "warning: cannot install pymodbus; RTU tests will fail" >&2
fi
