#!/usr/bin/env bash
# Checks a built sitegate .deb without installing it (`make package-test` builds one first): control fields,
# Depends, maintainer scripts, the file list with owners and modes, and the extracted binary, config and unit.
#
#   scripts/test-deb.sh [out/sitegate_0.1.0_amd64.deb]
set -euo pipefail
cd "$(dirname "$0")/.."

deb="${1:-$(ls -t out/sitegate_*.deb 2>/dev/null | head -n 1)}"
[ -f "$deb" ] || { echo "test-deb.sh: no .deb given and none in out/ (run make deb)" >&2; exit 1; }
work="$(mktemp -d /tmp/sitegate-debtest.XXXXXX)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one result line per check
  local what="$1"
  shift
  if "$@" >"$work/last.out" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $what"
  else
    failed=$((failed + 1))
    echo "FAIL $what"
    sed 's/^/     /' "$work/last.out" | head -n 20
  fi
}

field() { dpkg-deb --field "$deb" "$1"; }
dpkg-deb --contents "$deb" > "$work/contents"
dpkg-deb --control "$deb" "$work/DEBIAN"
dpkg-deb --extract "$deb" "$work/root"
bin="$work/root/usr/bin/sitegate"

check "package name" test "$(field Package)" = sitegate
check "version is the binary's" test "$(field Version)" = "$("$bin" --version)"
check "architecture is this machine's" test "$(field Architecture)" = "$(dpkg --print-architecture)"
for lib in libmodbus5 libmosquitto1 libsqlite3-0 libyaml-0-2 libc6; do
  check "Depends names $lib" grep -qE "(^|, )$lib( |,|$)" <<<"$(field Depends)"
done
check "Depends has no Swift runtime" bash -c "! grep -qi swift <<<'$(field Depends)'"
check "binary links no Swift library" bash -c "! ldd '$bin' | grep -qi swift"
check "binary finds all its libraries" bash -c "! ldd '$bin' | grep -q 'not found'"
check "binary is stripped" bash -c "file -L '$bin' | grep -q 'stripped' && ! file -L '$bin' | grep -q 'not stripped'"

check "conffiles is the site config" test "$(cat "$work/DEBIAN/conffiles")" = /etc/sitegate/site.yaml
for script in postinst prerm postrm; do
  check "$script is executable" test -x "$work/DEBIAN/$script"
  check "$script parses (sh -n)" sh -n "$work/DEBIAN/$script"
done
check "postinst runs systemd-sysusers" grep -q "systemd-sysusers /usr/lib/sysusers.d/sitegate.conf" \
  "$work/DEBIAN/postinst"
check "postinst reloads systemd" grep -q "daemon-reload" "$work/DEBIAN/postinst"
check "postinst never enables or starts" bash -c "! grep -qE 'systemctl (enable|start|restart )' '$work/DEBIAN/postinst'"
check "md5sums match" bash -c "cd '$work/root' && md5sum --quiet -c '$work/DEBIAN/md5sums'"

# The file list: path, mode and owner of what matters; every file root's.
expect() {  # expect MODE PATH
  check "$2 ($1)" grep -qE "^$1 root/root +[0-9]+ [0-9-]+ [0-9:]+ \.$2\$" "$work/contents"
}
expect -rwxr-xr-x /usr/bin/sitegate
expect -rw-r--r-- /etc/sitegate/site.yaml
expect -rw-r--r-- /usr/lib/systemd/system/sitegate.service
expect -rw-r--r-- /usr/lib/sysusers.d/sitegate.conf
expect -rw-r--r-- /usr/share/sitegate/devicemaps/models/eastron-sdm630.yaml
expect -rw-r--r-- /usr/share/sitegate/devicemaps/models/eastron-sdm630.fixture.yaml
expect -rw-r--r-- /usr/share/sitegate/devicemaps/sites/park-example.yaml
expect -rw-r--r-- /usr/share/doc/sitegate/README.md
expect -rw-r--r-- /usr/share/doc/sitegate/operations.md
expect -rw-r--r-- /usr/share/doc/sitegate/config.md
check "every entry owned by root/root" bash -c "! awk '\$2 != \"root/root\"' '$work/contents' | grep -q ."
shipped="$(grep -c '/usr/share/sitegate/devicemaps/models/.*\.yaml$' "$work/contents")"
check "every map and fixture is there ($shipped)" test "$shipped" = "$(ls devicemaps/models/*.yaml | wc -l)"
check "no credentials in the package" bash -c "! grep -q /etc/sitegate/credentials '$work/contents'"
check "no scratch files in the package" bash -c "! grep -qE '/tmp-|\.db$' '$work/contents'"

# The installed example config is valid against the installed maps (paths moved into the extracted tree).
sed "s#/usr/share/sitegate#$work/root/usr/share/sitegate#" "$work/root/etc/sitegate/site.yaml" > "$work/site.yaml"
check "example config passes sitegate check" "$bin" check --config "$work/site.yaml"
check "example config keeps the buffer below /var/lib/sitegate" grep -q "path: /var/lib/sitegate/buffer.db" \
  "$work/root/etc/sitegate/site.yaml"

if command -v systemd-analyze >/dev/null; then
  sed "s#^ExecStart=/usr/bin/sitegate #ExecStart=$bin #" "$work/root/usr/lib/systemd/system/sitegate.service" \
    > "$work/sitegate.service"
  verify() { local out; out="$(systemd-analyze verify --man=no "$1" 2>&1)" && [ -z "$out" ] || { echo "$out"; false; }; }
  check "unit passes systemd-analyze verify" verify "$work/sitegate.service"
  # --threshold (tenths) makes systemd-analyze fail above 2.0: no parsing of its decorated summary line.
  check "unit exposure <= 2.0" systemd-analyze security --offline=true --no-pager --threshold=20 \
    "$work/root/usr/lib/systemd/system/sitegate.service"
fi

echo "$deb: $(du -k "$deb" | cut -f1) KiB, installed $(field Installed-Size) KiB"
echo "package-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
