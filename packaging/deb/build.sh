#!/bin/bash
# Builds a Debian package from a built binary (called by `make package`):
#   packaging/deb/build.sh desktop|gateway ARCH BINARY VERSION OUT.deb
# desktop: the zevdesk app with its desktop entry and icon; its library
# dependencies come from dpkg-shlibdeps, as a Debian source package's would.
# gateway: the headless binary, the hardened systemd unit, a system user and
# the data directory.
set -euo pipefail
kind=$1 arch=$2 bin=$3 version=$4 out=$5
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/doc/$([ "$kind" = desktop ] && echo zevdesk || echo zevdesk-gateway)"

install -m 0755 "$bin" "$root/usr/bin/zevdesk"
copyright() { # $1: package name
	cat >"$root/usr/share/doc/$1/copyright" <<EOC
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zevdesk
Source: https://zevdesk.ch

Files: *
Copyright: zevdesk authors
License: proprietary
 Built from the zevdesk repository; the Go modules it links keep their own
 licences (BSD, MIT, Apache-2.0), listed by \`go version -m /usr/bin/zevdesk\`.
EOC
}

case $kind in
desktop)
	pkg=zevdesk
	install -D -m 0644 "$top/packaging/ch.zevdesk.app.desktop" "$root/usr/share/applications/ch.zevdesk.app.desktop"
	install -D -m 0644 "$top/assets/icon.png" "$root/usr/share/icons/hicolor/256x256/apps/ch.zevdesk.app.png"
	copyright zevdesk
	# dpkg-shlibdeps reads the libraries the binary links and the installed
	# packages' symbol files, and needs a debian/control to run in.
	mkdir -p "$work/src/debian"
	printf 'Source: zevdesk\n\nPackage: zevdesk\nArchitecture: any\n' >"$work/src/debian/control"
	shlibs=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/zevdesk" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
	[ -n "$shlibs" ] || { echo "build.sh: dpkg-shlibdeps found no library dependencies of $bin" >&2; exit 1; }
	# GLFW opens the X extension libraries with dlopen, which dpkg-shlibdeps
	# cannot see (`strings zevdesk | grep '\.so'` lists them); fonts-liberation2
	# gives Liberation Sans for the QR-bill payment part.
	depends="$shlibs, libxcursor1, libxi6, libxinerama1, libxrandr2, libxrender1, libxxf86vm1, fonts-liberation2"
	recommends="xdg-utils"
	description="metering and billing for Swiss self-consumption communities
 zevdesk meters and bills a solar self-consumption community (ZEV/RCP,
 vZEV, LEG) from the property office's own workstation: readings from the
 building's gateways or files, plausibility checks, invoice inserts with a
 Swiss QR-bill, workbooks and exports for property-management software."
	extra=""
	;;
gateway)
	pkg=zevdesk-gateway
	install -D -m 0644 "$top/packaging/zevdesk-gateway.service" "$root/lib/systemd/system/zevdesk-gateway.service"
	install -D -m 0644 "$here/gateway/sysusers.conf" "$root/usr/lib/sysusers.d/zevdesk-gateway.conf"
	install -D -m 0644 "$here/gateway/tmpfiles.conf" "$root/usr/lib/tmpfiles.d/zevdesk-gateway.conf"
	install -D -m 0644 "$here/gateway/default" "$root/etc/default/zevdesk-gateway"
	install -m 0755 "$here/gateway/postinst" "$here/gateway/prerm" "$here/gateway/postrm" "$root/DEBIAN/"
	echo /etc/default/zevdesk-gateway >"$root/DEBIAN/conffiles"
	copyright zevdesk-gateway
	# A static Go binary (CGO_ENABLED=0): no libraries; systemd for the unit,
	# systemd-sysusers and systemd-tmpfiles.
	depends="systemd"
	recommends=""
	description="zevdesk gateway agent for the building's meters
 Reads the building's electricity meters (Modbus TCP, Shelly), buffers the
 readings and serves them over HTTPS to the paired zevdesk office
 workstation. Runs as a hardened systemd service under its own system user."
	extra=""
	;;
*)
	echo "build.sh: unknown kind $kind (desktop or gateway)" >&2
	exit 1
	;;
esac

other=$([ "$pkg" = zevdesk ] && echo zevdesk-gateway || echo zevdesk)
{
	echo "Package: $pkg"
	echo "Version: $version"
	echo "Architecture: $arch"
	echo "Maintainer: zevdesk <packages@zevdesk.ch>"
	echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
	echo "Depends: $depends"
	[ -z "$recommends" ] || echo "Recommends: $recommends"
	# Both ship /usr/bin/zevdesk (the desktop build also runs the gateway).
	echo "Conflicts: $other"
	echo "Replaces: $other"
	echo "Section: misc"
	echo "Priority: optional"
	echo "Homepage: https://zevdesk.ch"
	echo "Description: $description"
	[ -z "$extra" ] || echo "$extra"
} >"$root/DEBIAN/control"
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out.tmp" >/dev/null
mv "$out.tmp" "$out"
