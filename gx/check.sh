#!/bin/bash
# gx/check.sh ARCH...: the tools of dist/gxkit-VERSION-ARCH.tar.gz under
# qemu-user on the Debian 11 (glibc 2.31) userland of gx/sysroot.sh, which
# has none of gxkit's libraries, against native peers on loopback and a
# native dbus-daemon: tests/gx/gx.bats, then the whole CLI suite with the
# emulated tools (but for the tests that judge a tool's own memory, which
# under qemu is the emulator's, and heap-watch's with native commands).  Prints TAP and one closing line
# "N passed, N failed"; exits 1 when anything failed.
set -u
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^#define GXKIT_VERSION "\(.*\)"/\1/p' lib/cli.h)
[ $# -gt 0 ] || set -- armhf arm64
pass=0
fail=0
start=$(date +%s)

# count LABEL TAP: print the TAP with LABEL on each result, and count it
count() {
	printf '%s\n' "$2" | sed "s/^\(not \)\{0,1\}ok [0-9]* /&$1: /"
	pass=$((pass + $(grep -c '^ok ' <<<"$2")))
	fail=$((fail + $(grep -c '^not ok ' <<<"$2")))
}
for ARCH in "$@"; do
	. gx/env.sh
	tarball=dist/gxkit-$VERSION-$ARCH.tar.gz
	[ -f "$tarball" ] || { echo "not ok - $tarball: run make gx"; fail=$((fail + 1)); continue; }
	dir=$GX_DIR/check
	rm -rf "$dir"
	mkdir -p "$dir/wrap"
	tar -xzf "$tarball" -C "$dir"
	# each tool by its name, run by qemu against the old userland
	for bin in "$dir"/gxkit/bin/*; do
		printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$QEMU" "$ROOT" "$bin" \
			>"$dir/wrap/${bin##*/}"
		chmod +x "$dir/wrap/${bin##*/}"
	done
	echo "# $ARCH: $tarball under $QEMU on $(ls "$ROOT"/usr/lib/"$TRIPLET"/libc-*.so)"
	out=$(GX_ARCH=$ARCH GX_WRAP=$dir/wrap GX_ROOT=$ROOT GX_QEMU=$QEMU \
		GX_TARBALL=$tarball bats --tap tests/gx/gx.bats 2>&1)
	count "$ARCH" "$out"
	# (heap-watch's tests that run a native command: its ARM library
	# cannot load there; tests/gx runs them with an ARM command)
	out=$(GXKIT_BIN=$dir/wrap bats --tap --filter-tags '!own-memory,!native-command' tests/cli 2>&1)
	count "$ARCH cli" "$out"
done
echo "# check-gx took $(($(date +%s) - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
