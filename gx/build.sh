#!/bin/bash
# gx/build.sh ARCH...: cross-build the tools for a GX and pack them as
# dist/gxkit-VERSION-ARCH.tar.gz (gxkit/bin, gxkit/share/maps, install.sh,
# README).  Everything but glibc is linked statically, against Debian 11's
# glibc 2.31, so a binary runs on Venus OS up to v3.5x (glibc 2.31) and
# from v3.60 (2.39); the build fails when one needs anything else.
set -eu
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^#define GXKIT_VERSION "\(.*\)"/\1/p' lib/cli.h)
# what a binary may need on the target: glibc's own libraries
ALLOWED='^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-armhf\.so\.3|ld-linux-aarch64\.so\.1)$'
GLIBC_MAX=2.31

# check BIN: NEEDED only glibc, no symbol version above GLIBC_MAX
check_binary() {
	local bin=$1 needed newest
	needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	for lib in $needed; do
		[[ $lib =~ $ALLOWED ]] ||
			{ echo "gx/build.sh: $bin needs $lib" >&2; return 1; }
	done
	newest=$(readelf -V "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' |
		sort -uV | tail -1)
	[ "$(printf '%s\n%s\n' "$newest" "$GLIBC_MAX" | sort -V | tail -1)" = "$GLIBC_MAX" ] ||
		{ echo "gx/build.sh: $bin needs GLIBC_$newest (> $GLIBC_MAX)" >&2; return 1; }
}

build() {
	local ARCH=$1 obj pkgs static
	. gx/env.sh
	gx/sysroot.sh "$ARCH"
	obj=$GX_DIR/obj
	export PKG_CONFIG_SYSROOT_DIR=$SYSROOT
	export PKG_CONFIG_LIBDIR=$SYSROOT/usr/local/lib/pkgconfig:$SYSROOT/usr/lib/$TRIPLET/pkgconfig:$SYSROOT/usr/share/pkgconfig
	pkgs="popt jansson libmodbus dbus-1 hdf5-serial liblzf"
	mkdir -p "$obj"
	$(cross_cc) -O2 $CPU -c -o "$obj/sd-stub.o" gx/sd-stub.c
	# static: every library but glibc's; HDF5's own needs from its
	# libhdf5.settings (szip over libaec, zlib)
	static="$(pkg-config --static --libs-only-L $pkgs) -Wl,-Bstatic"
	static="$static $(pkg-config --libs-only-l $pkgs) -lcsv -lsz -laec -lz"
	static="$static -Wl,-Bdynamic $obj/sd-stub.o -pthread -ldl -lm"
	make --no-print-directory B="$obj" CC="$(cross_cc)" PKGS="$pkgs" \
		CFLAGS="-O2 $CPU" PRELOAD_EXTRA="$CPU" GX_LIBS="-static-libgcc -Wl,--as-needed $static" \
		PREFIX=/data/gxkit tools >"$GX_DIR/make.log" 2>&1 ||
		{ grep -E "error:|undefined reference|No such file" "$GX_DIR/make.log" | head -20 >&2; return 1; }
	pack "$ARCH" "$obj"
}

# pack ARCH OBJ: the tarball, from stripped binaries that passed the check
pack() {
	local ARCH=$1 obj=$2 stage tools t
	stage=$obj/stage/gxkit
	rm -rf "$obj/stage"
	mkdir -p "$stage/bin" "$stage/share/maps" dist
	tools=$(make -s --no-print-directory print-tools)
	for t in $tools; do
		"$TRIPLET-strip" -o "$stage/bin/$t" "$obj/bin/$t"
		check_binary "$stage/bin/$t"
	done
	# heap-watch's preload library, where heap-watch looks (../lib/gxkit)
	mkdir -p "$stage/lib/gxkit"
	"$TRIPLET-strip" --strip-unneeded -o "$stage/lib/gxkit/libgxkit-heap.so" \
		"$obj/lib/gxkit/libgxkit-heap.so"
	check_binary "$stage/lib/gxkit/libgxkit-heap.so"
	cp lib/maps/*.csv "$stage/share/maps/"
	install -m 755 gx/install.sh "$stage/install.sh"
	sed "s/@VERSION@/$VERSION/; s/@ARCH@/$ARCH/" gx/README.gx >"$stage/README"
	tar -C "$obj/stage" --owner=0 --group=0 -czf "dist/gxkit-$VERSION-$ARCH.tar.gz" gxkit
	echo "dist/gxkit-$VERSION-$ARCH.tar.gz: $(du -k "dist/gxkit-$VERSION-$ARCH.tar.gz" | cut -f1) KB" \
		"($(du -sk "$stage" | cut -f1) KB unpacked)"
}

[ $# -gt 0 ] || set -- armhf arm64
for arch in "$@"; do
	build "$arch"
done
