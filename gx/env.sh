# Sourced by the gx/ scripts: ARCH (armhf, arm64) into its GNU triplet,
# CPU flags, the directories under build/gx/ARCH and the cross compiler
# bound to the sysroot.
case ${ARCH:-} in
armhf)
	TRIPLET=arm-linux-gnueabihf
	# Debian's armhf baseline: every Cortex-A7 and A8 (CCGX, Venus GX,
	# Cerbo GX, Raspberry Pi 2-4); NEON is not assumed
	CPU="-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb"
	QEMU=qemu-arm-static
	;;
arm64)
	TRIPLET=aarch64-linux-gnu
	CPU="-march=armv8-a"
	QEMU=qemu-aarch64-static
	;;
*)
	echo "${0##*/}: unknown arch '${ARCH:-}' (armhf, arm64)" >&2
	exit 2
	;;
esac
GX_DIR=$PWD/build/gx/$ARCH
ROOT=$GX_DIR/root
SYSROOT=$GX_DIR/sysroot

# The compiler for ARCH against the sysroot, never the cross toolchain's
# own (newer) glibc: the sysroot's crt, libraries and headers come first.
cross_cc() {
	echo "$TRIPLET-gcc --sysroot=$SYSROOT -B$SYSROOT/usr/lib/$TRIPLET" \
		"-L$SYSROOT/usr/lib/$TRIPLET -L$SYSROOT/lib/$TRIPLET" \
		"-isystem $SYSROOT/usr/local/include" \
		"-isystem $SYSROOT/usr/include/$TRIPLET -isystem $SYSROOT/usr/include"
}
