#!/bin/bash
# gx/sysroot.sh ARCH: what a cross build for a GX needs, under build/gx/ARCH
# (ARCH armhf or arm64), made once and kept:
#   root/     Debian 11 (glibc 2.31, as Venus OS up to v3.5x) from a foreign
#             minbase debootstrap: the userland check-gx runs the tools in;
#             none of gxkit's libraries are unpacked in it
#   sysroot/  every package debootstrap fetched, unpacked: glibc 2.31 to
#             link against, and the static archives of popt, jansson,
#             libcsv, libdbus-1 and HDF5
#   sysroot/usr/local  libmodbus and liblzf, which Debian ships without
#             static archives, built from their Debian source packages
# Sources come through apt with a state directory of its own under
# build/gx/apt: the machine's own sources.list is not touched.
set -eu
cd "$(dirname "$0")/.."
ARCH=${1:?usage: gx/sysroot.sh armhf|arm64}
. gx/env.sh
MIRROR=${GX_MIRROR:-http://deb.debian.org/debian}
DIR=$GX_DIR
# static archives of what the tools link, and what HDF5 needs
DEV=libc6-dev,libpopt-dev,libjansson-dev,libcsv-dev,libdbus-1-dev,libhdf5-dev,zlib1g-dev,libaec-dev
# and Debian 11's CPython, which check-gx runs heap-watch on (its headers
# for a C extension built in the test)
PY=libexpat1,python3.9-minimal,libpython3.9-minimal,libpython3.9-stdlib,libpython3.9,libpython3.9-dev
mkdir -p "$DIR"

say() { echo "gx/sysroot.sh $ARCH: $*"; }

if [ ! -e "$ROOT/.done" ]; then
	say "debootstrap bullseye (glibc 2.31) into $ROOT"
	rm -rf "$ROOT"
	debootstrap --variant=minbase --foreign --arch="$ARCH" --include="$DEV,$PY" \
		bullseye "$ROOT" "$MIRROR" >"$DIR/debootstrap.log" 2>&1 ||
		{ tail -20 "$DIR/debootstrap.log" >&2; exit 1; }
	# a foreign debootstrap unpacks only the base: CPython by hand, the
	# merged /usr's links (lib -> usr/lib) kept
	for pkg in ${PY//,/ }; do
		dpkg-deb --fsys-tarfile "$(ls "$ROOT"/var/cache/apt/archives/"${pkg}"_*.deb | head -1)" |
			tar -x --keep-directory-symlink -C "$ROOT"
	done
	touch "$ROOT/.done"
fi

# A sysroot's absolute links point into the host: make them relative.
relative_links() {
	local link target
	find "$1" -type l -lname '/*' | while read -r link; do
		target=$(readlink "$link")
		ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$1$target")" "$link"
	done
}

if [ ! -e "$SYSROOT/.done" ]; then
	say "unpacking $(ls "$ROOT"/var/cache/apt/archives/*.deb | wc -l) packages into $SYSROOT"
	rm -rf "$SYSROOT"
	mkdir -p "$SYSROOT"
	for deb in "$ROOT"/var/cache/apt/archives/*.deb; do
		dpkg-deb -x "$deb" "$SYSROOT"
	done
	relative_links "$SYSROOT"
	touch "$SYSROOT/.done"
fi

# ---- libmodbus and liblzf from Debian's source packages ---------------------

APTDIR=$PWD/build/gx/apt
SRC=$PWD/build/gx/src
APT=(apt-get -q -o Dir::State="$APTDIR/state" -o Dir::Cache="$APTDIR/cache"
	-o Dir::Etc::SourceList="$APTDIR/sources.list"
	-o Dir::Etc::SourceParts=/nonexistent -o Debug::NoLocking=1)

# fetch PACKAGE: its .dsc (checked by apt against the signed index) and
# upstream tarball (checked here against the .dsc); Debian's own patches
# are not needed to build the library.
fetch() {
	local pkg=$1 dsc orig sum
	if ! ls "$SRC/${pkg}"_*.dsc >/dev/null 2>&1; then
		mkdir -p "$APTDIR/state/lists/partial" "$APTDIR/cache/archives/partial" "$SRC"
		echo "deb-src $MIRROR bookworm main" >"$APTDIR/sources.list"
		[ -e "$APTDIR/.updated" ] || { "${APT[@]}" update >"$APTDIR/update.log" 2>&1 &&
			touch "$APTDIR/.updated"; } ||
			{ tail -5 "$APTDIR/update.log" >&2; exit 1; }
		# a missing debian.tar.xz on the mirror is no matter
		(cd "$SRC" && "${APT[@]}" source --download-only "$pkg" >"$SRC/$pkg.log" 2>&1) || true
	fi
	dsc=$(ls "$SRC/${pkg}"_*.dsc | head -1)
	orig=$(awk '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
		on && $3 ~ /orig\.tar/ { print $3 }' "$dsc")
	sum=$(awk -v f="$orig" '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
		on && $3 == f { print $1 }' "$dsc")
	[ -n "$orig" ] && [ -f "$SRC/$orig" ] ||
		{ echo "gx/sysroot.sh: $pkg: no upstream tarball (see $SRC/$pkg.log)" >&2; exit 1; }
	echo "$sum  $SRC/$orig" | sha256sum -c --quiet - ||
		{ echo "gx/sysroot.sh: $SRC/$orig does not match $dsc" >&2; exit 1; }
	echo "$SRC/$orig"
}

LOCAL=$SYSROOT/usr/local
if [ ! -e "$LOCAL/lib/libmodbus.a" ]; then
	tarball=$(fetch libmodbus)
	say "building libmodbus from $(basename "$tarball")"
	work=$DIR/libmodbus
	rm -rf "$work"
	mkdir -p "$work"
	tar -xzf "$tarball" -C "$work" --strip-components=1
	(cd "$work" && autoreconf -fi >"$work.log" 2>&1 &&
		./configure --host="$TRIPLET" --prefix=/usr/local \
		--enable-static --disable-shared --disable-tests \
		CC="$(cross_cc)" CFLAGS="-O2 $CPU" >>"$work.log" 2>&1 &&
		make -C src -j2 >>"$work.log" 2>&1 &&
		make -C src install DESTDIR="$SYSROOT" >>"$work.log" 2>&1 &&
		make install-pkgconfigDATA DESTDIR="$SYSROOT" >>"$work.log" 2>&1) ||
		{ tail -20 "$work.log" >&2; exit 1; }
fi
if [ ! -e "$LOCAL/lib/liblzf.a" ]; then
	tarball=$(fetch liblzf)
	say "building liblzf from $(basename "$tarball")"
	work=$DIR/liblzf
	rm -rf "$work"
	mkdir -p "$work" "$LOCAL/lib/pkgconfig" "$LOCAL/include/liblzf"
	tar -xzf "$tarball" -C "$work" --strip-components=1
	for f in lzf_c lzf_d; do
		$(cross_cc) -O2 $CPU -c -o "$work/$f.o" "$work/$f.c"
	done
	"$TRIPLET-ar" rcs "$LOCAL/lib/liblzf.a" "$work/lzf_c.o" "$work/lzf_d.o"
	cp "$work/lzf.h" "$LOCAL/include/liblzf/"
	printf '%s\n' "prefix=/usr/local" "Name: liblzf" "Description: LZF" \
		"Version: 3.6" "Cflags: -I\${prefix}/include/liblzf" \
		"Libs: -L\${prefix}/lib -llzf" >"$LOCAL/lib/pkgconfig/liblzf.pc"
fi
say "ready"
