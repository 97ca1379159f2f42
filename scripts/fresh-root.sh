#!/usr/bin/env bash
# A pristine Debian 12 root for `make test-fresh` and `make test-system`, made once with debootstrap and cached
# outside the repository (SITEGATE_FRESH_CACHE, default /var/cache/sitegate-fresh). Prints the root's path.
#
#   scripts/fresh-root.sh          the base root: minbase plus what the Swift toolchain needs to run
#   scripts/fresh-root.sh system   an overlay layer on it with systemd, dbus and mosquitto, for test-system:
#                                  prints an overlayfs lowerdir (LAYER:BASE)
#
# The Debian mirror is read from this machine's apt sources at run time (SITEGATE_DEBIAN_MIRROR overrides it), so
# no mirror is written into the repository. Needs root, debootstrap and overlayfs.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${SITEGATE_FRESH_CACHE:-/var/cache/sitegate-fresh}"
suite=bookworm
# What swift.org lists for running the toolchain on Debian 12, plus make and git to type the README's commands.
# Everything else (pkg-config, the C libraries, mosquitto, python3, ...) is for scripts/install-deps.sh to install.
toolchain_packages=(
  binutils gcc libc6-dev libgcc-12-dev libstdc++-12-dev libcurl4-openssl-dev libxml2-dev libedit2 libncurses-dev
  libpython3-dev libz3-dev zlib1g-dev libsqlite3-0 tzdata unzip git make ca-certificates
)
# Booting with systemd as PID 1 and a broker to talk to; the package's own Depends come from apt at install time.
system_packages=(systemd systemd-sysv dbus mosquitto mosquitto-clients)

[ "$(id -u)" -eq 0 ] || { echo "fresh-root.sh: needs root (debootstrap, mounts)" >&2; exit 1; }
scripts/install-deps.sh debootstrap systemd-container >&2

# The first http(s) URI of a source for $suite in apt's sources (deb822 .sources files, then one-line lists).
debian_mirror() {
  if [ -n "${SITEGATE_DEBIAN_MIRROR:-}" ]; then echo "$SITEGATE_DEBIAN_MIRROR"; return; fi
  local url
  url="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v suite="$suite" 'BEGIN { RS = "" }
    { uris = ""; suites = ""
      n = split($0, line, "\n")
      for (i = 1; i <= n; i++) {
        if (line[i] ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line[i]); uris = line[i] }
        if (line[i] ~ /^Suites:/) { suites = line[i] " " }
      }
      if (uris != "" && suites ~ (" " suite " ")) { split(uris, u, " "); print u[1]; exit } }')"
  if [ -z "$url" ]; then
    url="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -e 's/\[[^]]*\]//' |
      awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }')"
  fi
  [ -n "$url" ] || { echo "fresh-root.sh: no '$suite' source in /etc/apt; set SITEGATE_DEBIAN_MIRROR" >&2; exit 1; }
  echo "$url"
}

# A stamp of the package list: changing the list makes a new root instead of reusing a stale one.
stamp() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

base="$cache/base-$suite-$(stamp "${toolchain_packages[@]}")"
if [ ! -e "$base/.complete" ]; then
  rm -rf "$base.tmp"
  mkdir -p "$cache"
  echo "fresh-root.sh: debootstrap $suite (minbase) into $base" >&2
  started=$SECONDS
  debootstrap --variant=minbase --include="$(IFS=,; echo "${toolchain_packages[*]}")" \
    "$suite" "$base.tmp" "$(debian_mirror)" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  # debootstrap leaves the mirror it used as the only apt source, as a fresh installation would have.
  rm -rf "$base.tmp/var/cache/apt/archives/"*.deb
  touch "$base.tmp/.complete"
  mv "$base.tmp" "$base"
  echo "fresh-root.sh: base root made in $((SECONDS - started)) s" >&2
fi
# debootstrap writes no /etc/hosts; without one localhost does not resolve (RabbitMQ's node name needs it). Debian's
# installer and container runtimes write one: so does this, also into a root cached before this line existed.
[ -e "$base/etc/hosts" ] ||
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$base/etc/hosts"
if [ "${1:-}" != system ]; then echo "$base"; exit 0; fi

# The system layer: an overlayfs upper folder over the base, with systemd and the broker installed into it.
layer="$base.system-$(stamp "${system_packages[@]}")"
if [ ! -e "$layer/.complete" ]; then
  started=$SECONDS
  rm -rf "$layer.tmp" "$layer.work" "$layer.mnt"
  mkdir -p "$layer.tmp" "$layer.work" "$layer.mnt"
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$layer.tmp,workdir=$layer.work" "$layer.mnt"
  trap 'umount -R "$layer.mnt" 2>/dev/null || true; rm -rf "$layer.work" "$layer.mnt"' EXIT
  cp /etc/resolv.conf "$layer.mnt/etc/resolv.conf"
  systemd-nspawn -q -D "$layer.mnt" --register=no --keep-unit --pipe -E DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${system_packages[*]} >/dev/null" >&2
  echo sitegate-test > "$layer.mnt/etc/hostname"
  rm -f "$layer.mnt/var/cache/apt/archives/"*.deb
  umount "$layer.mnt"
  trap - EXIT
  rm -rf "$layer.work" "$layer.mnt"
  touch "$layer.tmp/.complete"
  mv "$layer.tmp" "$layer"
  echo "fresh-root.sh: system layer made in $((SECONDS - started)) s" >&2
fi
echo "$layer:$base"
