#!/usr/bin/env bash
# `make test-fresh`: the README's commands as a new user runs them, on a pristine Debian 12 with only the Swift
# toolchain. A throwaway overlay of the cached root (scripts/fresh-root.sh), a clean clone of this repository's
# HEAD inside it (committed work only), /opt/swift bind-mounted read-only, then `make test` and `make demo` run in
# it by systemd-nspawn. The overlay is deleted afterwards; the log stays in .build-fresh/.
#
# What the host provides read-only besides the toolchain, because the machine may need it to reach anything: git's
# system config and its local package mirrors (url.*.insteadOf), pip's config and the CA bundle it names.
# FRESH_COMMANDS replaces the commands (default: make test && make demo).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

[ "$(id -u)" -eq 0 ] || { echo "test-fresh.sh: needs root (overlayfs, systemd-nspawn)" >&2; exit 1; }
swift_root="${SITEGATE_SWIFT_ROOT:-$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")}"
[ -x "$swift_root/usr/bin/swift" ] || { echo "test-fresh.sh: no Swift toolchain at $swift_root" >&2; exit 1; }
commands="${FRESH_COMMANDS:-make test && make demo}"
[ -z "$(git status --porcelain --untracked-files=no)" ] || echo "test-fresh.sh: uncommitted changes are not tested" >&2

started=$SECONDS
base="$(scripts/fresh-root.sh)"
mkdir -p .build-fresh
log="$repo/.build-fresh/test-fresh.log"
run="$(mktemp -d /var/tmp/sitegate-fresh.XXXXXX)"
root="$run/root"
mkdir -p "$run/upper" "$run/work" "$root"
cleanup() {
  umount "$root" 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root"

git clone -q --no-hardlinks "$repo" "$root/root/sitegate"
git -C "$root/root/sitegate" checkout -q "$(git rev-parse HEAD)"

binds=(--bind-ro="$swift_root:/opt/swift")
for path in /etc/gitconfig /etc/pip.conf; do
  [ -e "$path" ] && binds+=(--bind-ro="$path")
done
# Local mirrors that git's system config redirects to (url.<mirror>.insteadOf).
while read -r mirror; do
  mirror="${mirror%/}"
  [ -d "$mirror" ] && binds+=(--bind-ro="$mirror")
done < <(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | sed -n 's/^url\.\(\/[^ ]*\)\.insteadof .*/\1/p' | sort -u)
pip_cert="$(git config -f /etc/pip.conf --get global.cert 2>/dev/null || true)"
[ -n "$pip_cert" ] && [ -f "$pip_cert" ] && binds+=(--bind-ro="$pip_cert")

echo "test-fresh: $commands, in an overlay of $base (log: $log)"
status=0
systemd-nspawn -q -D "$root" --register=no --keep-unit --as-pid2 "${binds[@]}" \
  --setenv=PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --setenv=HOME=/root --chdir=/root/sitegate \
  /bin/bash -c "$commands" >"$log" 2>&1 || status=$?
grep -E "Test run with|package-test:|^== |error:" "$log" | tail -n 20
echo "test-fresh: exit $status after $((SECONDS - started)) s"
exit "$status"
