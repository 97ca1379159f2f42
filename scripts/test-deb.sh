#!/usr/bin/env bash
# Checks a built sitegate .deb without installing it (`make package-test` builds one first): lintian, control
# fields, Depends, the maintainer scripts debhelper wrote (and what postrm deletes on remove and on purge, run
# against a scratch DPKG_ROOT), the file list with owners and modes, man pages and completions, and the extracted
# binary, config and unit. Installing, upgrading and purging under a live systemd is the nspawn test's job.
#
#   scripts/test-deb.sh [out/sitegate_0.1.0_amd64.deb]
set -euo pipefail
cd "$(dirname "$0")/.."

deb="${1:-$(ls -t out/sitegate_*.deb 2>/dev/null | head -n 1)}"
[ -f "$deb" ] || { echo "test-deb.sh: no .deb given and none in out/ (run make deb)" >&2; exit 1; }
work="$(mktemp -d /tmp/sitegate-debtest.XXXXXX)"
trap 'rm -rf "$work"' EXIT
CHECK_DIR="$work"
. "$(dirname "$0")/checks.sh"

field() { dpkg-deb --field "$deb" "$1"; }
dpkg-deb --contents "$deb" > "$work/contents"
dpkg-deb --control "$deb" "$work/DEBIAN"
dpkg-deb --extract "$deb" "$work/root"
bin="$work/root/usr/bin/sitegate"

# lintian, Debian's package checker: errors and warnings fail, info tags are shown too; its whole output is
# printed. Overrides, if ever needed (debian/sitegate.lintian-overrides), carry a reason each.
lintian_clean() {
  local status=0
  lintian --fail-on error,warning --display-info --tag-display-limit 0 "$deb" > "$work/lintian.raw" 2>&1 || status=$?
  grep -v 'running with root privileges' "$work/lintian.raw" || true
  echo "lintian: $(grep -c '^E: ' "$work/lintian.raw") errors, $(grep -c '^W: ' "$work/lintian.raw") warnings," \
    "$(grep -c '^I: ' "$work/lintian.raw") info, exit $status"
  return "$status"
}
check "lintian: 0 errors, 0 warnings" lintian_clean
sed 's/^/     /' "$work/last.out"

check "package name" test "$(field Package)" = sitegate
check "version is the binary's" test "$(field Version)" = "$("$bin" --version)"
check "version is the changelog's" test "$(field Version)" = "$(dpkg-parsechangelog -l debian/changelog -S Version)"
check "architecture is this machine's" test "$(field Architecture)" = "$(dpkg --print-architecture)"
check "maintainer is not @localhost" bash -c "! grep -q '@localhost' <<<'$(field Maintainer)'"
for lib in libmodbus5 libmosquitto1 libsqlite3-0 libyaml-0-2 libssl3 libc6; do
  check "Depends names $lib" grep -qE "(^|, )$lib( |,|$)" <<<"$(field Depends)"
done
check "Depends names systemd-sysusers' providers" grep -q "systemd | systemd-standalone-sysusers" <<<"$(field Depends)"
check "Depends has no Swift runtime" bash -c "! grep -qi swift <<<'$(field Depends)'"
check "binary links no Swift library" bash -c "! ldd '$bin' | grep -qi swift"
check "binary finds all its libraries" bash -c "! ldd '$bin' | grep -q 'not found'"
check "binary is stripped" bash -c "file -L '$bin' | grep -q 'stripped' && ! file -L '$bin' | grep -q 'not stripped'"

check "conffiles is the site config" test "$(cat "$work/DEBIAN/conffiles")" = /etc/sitegate/site.yaml
for script in postinst prerm postrm; do
  check "$script is executable" test -x "$work/DEBIAN/$script"
  check "$script parses (sh -n)" sh -n "$work/DEBIAN/$script"
done
check "no preinst: nothing stops the agent before an upgrade" test ! -e "$work/DEBIAN/preinst"
postinst="$work/DEBIAN/postinst"
check "postinst creates the user (systemd-sysusers sitegate.conf)" \
  grep -qE 'systemd-sysusers .*sitegate\.conf' "$postinst"
check "postinst creates the credential placeholders (systemd-tmpfiles)" \
  grep -qE 'systemd-tmpfiles .*--create sitegate\.conf' "$postinst"
check "postinst enables the unit" grep -q "deb-systemd-helper enable 'sitegate.service'" "$postinst"
check "postinst starts on install, restarts on upgrade" bash -c \
  "grep -q '_dh_action=restart' '$postinst' && grep -q \"deb-systemd-invoke \\\$_dh_action 'sitegate.service'\" '$postinst'"
check "postinst touches systemd only when it runs" grep -q 'if \[ -d /run/systemd/system \]; then' "$postinst"
# The signing key is made before debhelper's part starts the agent, which then signs from its first message.
key_line="$(grep -n 'sitegate keys generate --output "$key"' "$postinst" | cut -d: -f1 | head -n 1)"
start_line="$(grep -n "deb-systemd-invoke \$_dh_action 'sitegate.service'" "$postinst" | cut -d: -f1 | head -n 1)"
check "postinst makes the signing key before it starts the agent" test -n "$key_line" -a -n "$start_line" -a \
  "${key_line:-0}" -lt "${start_line:-0}"
check "prerm stops the agent on remove only" grep -q "\[ \"\$1\" = remove \].*/run/systemd/system" "$work/DEBIAN/prerm"
check "md5sums match" bash -c "cd '$work/root' && md5sum --quiet -c '$work/DEBIAN/md5sums'"

# postrm against a scratch root (DPKG_ROOT): remove keeps config, credentials and buffer; purge deletes them.
# deb-systemd-helper and systemctl are stand-ins that only log, so that the host's systemd state stays untouched.
target="$work/target"
mkdir -p "$target/etc/sitegate/credentials" "$target/var/lib/sitegate" "$work/stubs"
echo "site: {}" > "$target/etc/sitegate/site.yaml"
: > "$target/etc/sitegate/signing.key"
: > "$target/etc/sitegate/credentials/mqtt-password"
: > "$target/var/lib/sitegate/buffer.db"
for tool in deb-systemd-helper deb-systemd-invoke systemctl; do
  printf '#!/bin/sh\necho "%s $*" >> "%s/stubs.log"\n' "$tool" "$work" > "$work/stubs/$tool"
  chmod +x "$work/stubs/$tool"
done
postrm() { DPKG_ROOT="$target" PATH="$work/stubs:$PATH" sh "$work/DEBIAN/postrm" "$@"; }
check "postrm remove runs" postrm remove
check "remove keeps config, signing key, credentials and buffer" test -f "$target/etc/sitegate/site.yaml" \
  -a -f "$target/etc/sitegate/signing.key" -a -f "$target/etc/sitegate/credentials/mqtt-password" \
  -a -f "$target/var/lib/sitegate/buffer.db"
check "postrm purge runs" postrm purge
check "purge deletes /etc/sitegate and /var/lib/sitegate" \
  test ! -e "$target/etc/sitegate" -a ! -e "$target/var/lib/sitegate"
check "purge forgets the unit's enablement (deb-systemd-helper purge)" \
  grep -q "deb-systemd-helper purge sitegate.service" "$work/stubs.log"

# The maintainer scripts for real, where systemd is not running (a chroot, a container image build): dpkg installs,
# reinstalls, removes and purges the package in a chroot whose writes go to a tmpfs over this system (a private
# mount namespace: the host's users, /etc and systemd state stay untouched). Needs root and overlayfs; skipped
# without them. The same under a live systemd (start, restart on upgrade, stop) is the nspawn test's job.
chroot_lifecycle() {
  local base="$work/chroot"
  mkdir -p "$base/t" "$base/merged"
  # What runs in the chroot: one "step: ..." line per expectation met.
  cat > "$work/steps.sh" <<'STEPS'
set -eu
deb=/tmp/sitegate-pkg/sitegate.deb
step() { echo "step: $*"; }
dpkg --purge sitegate >/dev/null 2>&1 || true   # a copy of a system that has it installed starts clean
dpkg -i "$deb" >/dev/null 2>&1 || { dpkg -i "$deb"; exit 1; }
step installed
id sitegate | grep -q dialout && step user in dialout
[ "$(stat -c %a:%U /etc/sitegate/credentials)" = 700:root ] && step credentials folder 0700 root
[ "$(stat -c %a:%U /etc/sitegate/credentials/mqtt-password)" = 600:root ] && step placeholder 0600 root
[ -L /etc/systemd/system/multi-user.target.wants/sitegate.service ] && step unit enabled
[ "$(stat -c %a:%U:%G /etc/sitegate/signing.key)" = 600:sitegate:sitegate ] && step signing key 0600 sitegate
sitegate keys show --key /etc/sitegate/signing.key > /tmp/sitegate-pkg/shown 2>&1 \
  && grep -q '^ed25519 [A-Za-z0-9_-]\{43\} from=' /tmp/sitegate-pkg/shown && step keys show reads the key
[ "$(sitegate keys show --config /etc/sitegate/site.yaml --json | sed 's/.*"kid":"\([0-9a-f]*\)".*/\1/')" \
  = "$(sed -n 's/^key id: *//p' /tmp/sitegate-pkg/shown)" ] && step the example config signs with it
sitegate check --config /etc/sitegate/site.yaml >/dev/null 2>&1 && step the example config checks
echo "# edited" >> /etc/sitegate/site.yaml
echo secret > /etc/sitegate/credentials/mqtt-password
dpkg -i "$deb" >/dev/null 2>&1 && step reinstalled
grep -q "# edited" /etc/sitegate/site.yaml && grep -q secret /etc/sitegate/credentials/mqtt-password \
  && step reinstall keeps config and secrets
sitegate keys show --key /etc/sitegate/signing.key | head -n 2 > /tmp/sitegate-pkg/shown-again
head -n 2 /tmp/sitegate-pkg/shown | cmp -s - /tmp/sitegate-pkg/shown-again && step reinstall keeps the signing key
install -d -o sitegate -g sitegate /var/lib/sitegate && : > /var/lib/sitegate/buffer.db
dpkg -r sitegate >/dev/null 2>&1 && step removed
[ ! -e /usr/bin/sitegate ] && [ -f /etc/sitegate/site.yaml ] && [ -f /etc/sitegate/credentials/mqtt-password ] \
  && [ -f /etc/sitegate/signing.key ] && [ -f /var/lib/sitegate/buffer.db ] \
  && step remove keeps config, signing key, credentials and buffer
dpkg -P sitegate >/dev/null 2>&1 && step purged
[ ! -e /etc/sitegate ] && [ ! -e /var/lib/sitegate ] && step purge deletes /etc/sitegate and /var/lib/sitegate
[ ! -e /etc/systemd/system/multi-user.target.wants/sitegate.service ] && step purge forgets the enablement
id sitegate >/dev/null && step the user stays
STEPS
  # The chroot: this system as the lower layer of an overlay whose upper layer is a tmpfs of this namespace.
  cat > "$work/namespace.sh" <<'NAMESPACE'
set -eu
base="$1"
mount -t tmpfs tmpfs "$base/t"
mkdir -p "$base/t/upper" "$base/t/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/t/upper,workdir=$base/t/work" "$base/merged"
mount --bind /proc "$base/merged/proc"
mount --bind /dev "$base/merged/dev"
mkdir -p "$base/merged/tmp/sitegate-pkg"
cp "$2" "$base/merged/tmp/sitegate-pkg/sitegate.deb"
cp "$3" "$base/merged/tmp/sitegate-pkg/steps.sh"
chroot "$base/merged" sh /tmp/sitegate-pkg/steps.sh
NAMESPACE
  unshare --mount --propagation private sh "$work/namespace.sh" "$base" "$deb" "$work/steps.sh"
}
if [ "$(id -u)" -eq 0 ] && unshare --mount true 2>/dev/null && grep -qw overlay /proc/filesystems; then
  chroot_lifecycle > "$work/chroot.out" 2>&1 || true
  failed_before=$failed
  for step in "installed" "user in dialout" "credentials folder 0700 root" "placeholder 0600 root" "unit enabled" \
    "signing key 0600 sitegate" "keys show reads the key" "the example config signs with it" \
    "the example config checks" "reinstalled" "reinstall keeps config and secrets" "reinstall keeps the signing key" \
    "removed" "remove keeps config, signing key, credentials and buffer" \
    "purged" "purge deletes /etc/sitegate and /var/lib/sitegate" "purge forgets the enablement" "the user stays"; do
    check "chroot without systemd: $step" grep -qx "step: $step" "$work/chroot.out"
  done
  [ "$failed" -eq "$failed_before" ] || sed 's/^/     /' "$work/chroot.out" | tail -n 20
else
  echo "skip chroot install/remove/purge: needs root, unshare and overlayfs"
fi

# The file list: path, mode and owner of what matters; every file root's.
expect() {  # expect MODE PATH
  check "$2 ($1)" grep -qE "^$1 root/root +[0-9]+ [0-9-]+ [0-9:]+ \.$2\$" "$work/contents"
}
expect -rwxr-xr-x /usr/bin/sitegate
expect -rw-r--r-- /etc/sitegate/site.yaml
expect -rw-r--r-- /lib/systemd/system/sitegate.service
expect -rw-r--r-- /usr/lib/sysusers.d/sitegate.conf
expect -rw-r--r-- /usr/lib/tmpfiles.d/sitegate.conf
expect -rw-r--r-- /usr/share/sitegate/devicemaps/models/eastron-sdm630.yaml
expect -rw-r--r-- /usr/share/sitegate/devicemaps/models/eastron-sdm630.fixture.yaml
expect -rw-r--r-- /usr/share/sitegate/devicemaps/sites/park-example.yaml
expect -rw-r--r-- /usr/share/doc/sitegate/README.md
expect -rw-r--r-- /usr/share/doc/sitegate/operations.md
expect -rw-r--r-- /usr/share/doc/sitegate/config.md
expect -rw-r--r-- /usr/share/doc/sitegate/copyright
expect -rw-r--r-- /usr/share/doc/sitegate/changelog.gz
expect -rw-r--r-- /usr/share/man/man1/sitegate.1.gz
expect -rw-r--r-- /usr/share/man/man1/sitegate-run.1.gz
expect -rw-r--r-- /usr/share/bash-completion/completions/sitegate
expect -rw-r--r-- /usr/share/zsh/vendor-completions/_sitegate
expect -rw-r--r-- /usr/share/fish/vendor_completions.d/sitegate.fish
check "every entry owned by root/root" bash -c "! awk '\$2 != \"root/root\"' '$work/contents' | grep -q ."
shipped="$(grep -c '/usr/share/sitegate/devicemaps/models/.*\.yaml$' "$work/contents")"
check "every map and fixture is there ($shipped)" test "$shipped" = "$(ls devicemaps/models/*.yaml | wc -l)"
check "no credentials in the package" bash -c "! grep -q /etc/sitegate/credentials '$work/contents'"
check "no signing key in the package (made on the box)" bash -c "! grep -q 'signing.key' '$work/contents'"
check "no scratch files in the package" bash -c "! grep -qE '/tmp-|\.db$' '$work/contents'"

# Man pages: one per command the binary has (help excluded), each rendering without a groff warning.
commands="$("$bin" --experimental-dump-help | python3 -c '
import json, sys
def count(c): return 1 + sum(count(s) for s in c.get("subcommands", []) if s["commandName"] != "help")
print(count(json.load(sys.stdin)["command"]))')"
pages="$(grep -c '/usr/share/man/man1/sitegate.*\.1\.gz$' "$work/contents")"
check "a man page per command ($pages of $commands)" test "$pages" = "$commands"
render_all() {
  local page out
  for page in "$work"/root/usr/share/man/man1/*.1.gz; do
    out="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)"
    [ -z "$out" ] || { echo "$(basename "$page"): $out"; return 1; }
  done
}
check "man pages render without warnings" render_all
check "sitegate-raw(1) lists --address" \
  bash -c "man -l '$work/root/usr/share/man/man1/sitegate-raw.1.gz' | grep -q -- '--address'"
completions="$work/root/usr/share"
check "bash completion parses, no #! line" bash -c "bash -n '$completions/bash-completion/completions/sitegate' \
  && ! head -n 1 '$completions/bash-completion/completions/sitegate' | grep -q '^#!'"
check "bash completion completes subcommands" bash -c "source '$completions/bash-completion/completions/sitegate' \
  && COMP_WORDS=(sitegate ch) COMP_CWORD=1 COMP_LINE='sitegate ch' COMP_POINT=11 && _sitegate && printf '%s\n' \"\${COMPREPLY[@]}\" | grep -qx check"
check "zsh completion is a #compdef file" grep -q '^#compdef sitegate' "$completions/zsh/vendor-completions/_sitegate"
check "fish completion completes sitegate" \
  grep -q "^complete -c 'sitegate' " "$completions/fish/vendor_completions.d/sitegate.fish"

# The installed example config is valid against the installed maps (paths moved into the extracted tree), and
# names no bus: the package starts the agent on install, which must not open a serial port it was not given.
"$bin" keys generate --output "$work/signing.key" > /dev/null
sed -e "s#/usr/share/sitegate#$work/root/usr/share/sitegate#" -e "s#/etc/sitegate/signing.key#$work/signing.key#" \
  "$work/root/etc/sitegate/site.yaml" > "$work/site.yaml"
check "example config passes sitegate check" "$bin" check --config "$work/site.yaml"
check "example config names no bus and no device" \
  bash -c "'$bin' check --config '$work/site.yaml' | grep -q '0 buses, 0 devices'"
check "example config keeps the buffer below /var/lib/sitegate" grep -q "path: /var/lib/sitegate/buffer.db" \
  "$work/root/etc/sitegate/site.yaml"
check "example config signs with the key postinst makes" grep -qx "  key: /etc/sitegate/signing.key" \
  "$work/root/etc/sitegate/site.yaml"

if command -v systemd-analyze >/dev/null; then
  sed "s#^ExecStart=/usr/bin/sitegate #ExecStart=$bin #" "$work/root/lib/systemd/system/sitegate.service" \
    > "$work/sitegate.service"
  verify() { local out; out="$(systemd-analyze verify --man=no "$1" 2>&1)" && [ -z "$out" ] || { echo "$out"; false; }; }
  check "unit passes systemd-analyze verify" verify "$work/sitegate.service"
  # --threshold (tenths) makes systemd-analyze fail above 2.0: no parsing of its decorated summary line.
  check "unit exposure <= 2.0" systemd-analyze security --offline=true --no-pager --threshold=20 \
    "$work/root/lib/systemd/system/sitegate.service"
fi

echo "$deb: $(du -k "$deb" | cut -f1) KiB, installed $(field Installed-Size) KiB"
echo "package-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
