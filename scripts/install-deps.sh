#!/usr/bin/env bash
# Installs the Debian packages sitegate needs to build, test and run the demo, plus any named as arguments (the
# packaging targets add theirs), and the Python test tools in a virtual environment in the build folder
# (SITEGATE_PYTHON_VENV, default .build/python; the Makefile sets it). Idempotent: installs only what is missing.
# Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  pkg-config
  libmodbus-dev libmosquitto-dev libsqlite3-dev libyaml-dev   # C libraries sitegate links
  libssl-dev openssl                                          # TLS session details; test certificates
  mosquitto mosquitto-clients                                 # the broker and mosquitto_sub for demo and tests
  socat mbpoll                                                # serial pty pairs; an independent Modbus client
  python3 python3-venv                                        # the Python test tools' virtual environment
  python3-jsonschema python3-serial                           # SenML schema validation; pymodbus's serial port
  python3-cryptography                                        # Ed25519 for the independent verifier
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

# Debian's python3 refuses system-wide pip installs (PEP 668), and the python3 first on PATH may not be Debian's
# (pyenv): the tests run the virtual environment's interpreter ($SITEGATE_PYTHON). It sees Debian's jsonschema,
# pyserial and cryptography; pymodbus (a Modbus server written by others) comes from PyPI, pinned: its API changes
# between releases.
venv="${SITEGATE_PYTHON_VENV:-$PWD/.build/python}"
python="$venv/bin/python3"
tools_ready() { "$python" -c 'import jsonschema, serial, cryptography, pymodbus, sys; sys.exit(pymodbus.__version__ != "3.6.9")'; }
if ! tools_ready 2>/dev/null; then
  echo "python test tools: a virtual environment in $venv"
  [ -x "$python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$python" -m pip install --quiet --disable-pip-version-check "pymodbus==3.6.9" ||
    echo "warning: cannot install pymodbus from PyPI; RTU tests will fail" >&2
  tools_ready || echo "warning: $python lacks a test tool (jsonschema, serial, cryptography, pymodbus 3.6.9)" >&2
fi
