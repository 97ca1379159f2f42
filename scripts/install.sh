#!/usr/bin/env bash
# Installs sitegate: the release binary, device maps, docs, the systemd unit and sysusers.d file, and an example
# site config that never replaces an existing one. `make install` and debian/rules (the package) call it.
#
#   SITEGATE_RELEASE_BIN=.build/release/sitegate PREFIX=/usr DESTDIR=/tmp/stage scripts/install.sh
#
# PREFIX (default /usr/local) decides where the binary, maps, docs, unit and sysusers file go; the config and the
# credential folder are always under /etc/sitegate (the unit's ConfigurationDirectory=). UNITDIR overrides the
# unit's folder (the package's is /lib/systemd/system, where Debian 12's debhelper looks). DESTDIR stages the tree
# into a folder; then no credential placeholders and no signing key are made (the package makes them on the target:
# tmpfiles.d, postinst).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${SITEGATE_RELEASE_BIN:-.build/release/sitegate}"
prefix="${PREFIX:-/usr/local}"
destdir="${DESTDIR:-}"
bindir="$prefix/bin"
datadir="$prefix/share"
docdir="$datadir/doc/sitegate"
mapsdir="$datadir/sitegate/devicemaps"
unitdir="${UNITDIR:-$prefix/lib/systemd/system}"
sysusersdir="$prefix/lib/sysusers.d"
confdir="/etc/sitegate"

[ -x "$bin" ] || { echo "install.sh: no release binary at $bin (run make release)" >&2; exit 1; }

install -d -m 0755 "$destdir$bindir" "$destdir$mapsdir/models" "$destdir$mapsdir/sites" "$destdir$docdir" \
  "$destdir$unitdir" "$destdir$sysusersdir" "$destdir$confdir"
install -m 0755 "$bin" "$destdir$bindir/sitegate"

# Maps with their fixtures (`sitegate maps lint` checks a map against its fixture), and the example sites.
install -m 0644 devicemaps/models/*.yaml "$destdir$mapsdir/models/"
(cd devicemaps/sites && find . -type f ! -name 'tmp-*') | while read -r file; do
  install -D -m 0644 "devicemaps/sites/$file" "$destdir$mapsdir/sites/$file"
done

install -m 0644 README.md docs/*.md docs/*.json "$destdir$docdir/"

# The unit names /usr/bin/sitegate and /usr/share/doc/sitegate; another PREFIX gets its own paths.
sed -e "s#^ExecStart=/usr/bin/sitegate #ExecStart=$bindir/sitegate #" \
  -e "s#^Documentation=file:/usr/share/doc/sitegate/#Documentation=file:$docdir/#" systemd/sitegate.service \
  > "$destdir$unitdir/sitegate.service"
chmod 0644 "$destdir$unitdir/sitegate.service"
install -m 0644 systemd/sitegate.sysusers "$destdir$sysusersdir/sitegate.conf"

config="$destdir$confdir/site.yaml"
if [ -e "$config" ]; then
  echo "install.sh: keeping the existing $config"
else
  sed -e "s#@MAPSDIR@#$mapsdir/models#" -e "s#@DOCDIR@#$docdir#" packaging/site.yaml.in > "$config"
  chmod 0644 "$config"
fi

if [ -z "$destdir" ]; then
  # The unit loads these credentials and fails to start when a source file is missing; empty means unused.
  install -d -m 0700 "$confdir/credentials"
  for secret in mqtt-password mqtt-client-key; do
    [ -e "$confdir/credentials/$secret" ] || install -m 0600 /dev/null "$confdir/credentials/$secret"
  done
  # The key that signs the messages, as the package's postinst makes it: mode 0600, given to sitegate when that
  # user exists (else the next step below hands it over).
  key="$confdir/signing.key"
  [ -e "$key" ] || [ -L "$key" ] || "$bindir/sitegate" keys generate --output "$key" >/dev/null
  chown_key=""
  [ "$(stat -c %U "$key")" = sitegate ] || chown_key=" && chown sitegate:sitegate $key"
  echo "installed; next: systemd-sysusers $sysusersdir/sitegate.conf$chown_key && systemctl daemon-reload"
fi
