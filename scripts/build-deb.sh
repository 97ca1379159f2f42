#!/usr/bin/env bash
# Builds out/sitegate_VERSION_ARCH.deb from the release binary (`make deb` builds that first).
#
# The version comes from `sitegate --version`, the architecture from dpkg (DEB_ARCH overrides it when the binary
# was cross-built), Depends from the binary's shared libraries via dpkg-shlibdeps (dpkg-dev), which also gives
# each library's minimum version. The Swift runtime is linked statically, so no Swift package is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${SITEGATE_RELEASE_BIN:-.build/release/sitegate}"
out="${DEB_OUT:-out}"
maintainer="${DEB_MAINTAINER:-sitegate maintainers <sitegate-maintainers@localhost>}"
arch="${DEB_ARCH:-$(dpkg --print-architecture)}"

[ -x "$bin" ] || { echo "build-deb.sh: no release binary at $bin (run make release)" >&2; exit 1; }
if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "build-deb.sh: needs dpkg-shlibdeps (apt-get install dpkg-dev)" >&2
  exit 1
fi
version="$("$bin" --version)"
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { echo "build-deb.sh: '$version' is not a Debian version" >&2; exit 1; }
if ldd "$bin" | grep -q -i swift; then
  echo "build-deb.sh: $bin links the Swift runtime dynamically; build it with --static-swift-stdlib" >&2
  exit 1
fi

stage="$(mktemp -d /tmp/sitegate-deb.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
PREFIX=/usr DESTDIR="$root" SITEGATE_RELEASE_BIN="$bin" scripts/install.sh >/dev/null

# dpkg-shlibdeps reads debian/control of the current directory: a minimal one will do.
mkdir -p "$stage/debian"
printf 'Source: sitegate\n\nPackage: sitegate\nArchitecture: any\n' > "$stage/debian/control"
depends="$(cd "$stage" && dpkg-shlibdeps -O -e"$root/usr/bin/sitegate" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
install -m 0644 packaging/debian/conffiles "$root/DEBIAN/conffiles"
# Checksums of everything but the conffiles, as dh_md5sums writes them.
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | sort -z \
  | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
size="$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s#@VERSION@#$version#" -e "s#@ARCH@#$arch#" -e "s#@MAINTAINER@#$maintainer#" \
  -e "s#@INSTALLED_SIZE@#$size#" -e "s#@DEPENDS@#$depends#" packaging/debian/control.in > "$root/DEBIAN/control"

mkdir -p "$out"
deb="$out/sitegate_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb: $(du -k "$deb" | cut -f1) KiB; Depends: $depends"
