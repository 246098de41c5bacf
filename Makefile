# gxkit: small C tools for Victron GX devices and any Linux box.
# make [all] | deps | check | lint | bench | demo | install | clean

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
COMPLETIONSDIR ?= $(shell pkg-config --variable=completionsdir \
	bash-completion 2>/dev/null || echo $(PREFIX)/share/bash-completion/completions)

# Adding a tool: cmd/X.c, man/X.1, completions/X.bash, tests/cli/X.bats
# and this list (make lint checks all five).
TOOLS       = rss-watch heap-watch leak-classify gw-read gw-scan gw-sim gw-publish dbus-watch h5-dump
LIB_MODULES = cli parse msg human print clock dtoa jsonl jsonl_out memlog procmem smaps trend leak leak_series leak_regimes leak_episodes leak_envelope leak_bursts leak_faults leak_lives leak_words leak_report leak_svg timeline where fleet mb regmap vbus vbus_client venus h5 h5_walk h5_table shepherd guard elfsym heapsite
HELPERS     = memhog ticker maphog allocs heapleak
UNIT_TESTS  = test_cli test_jsonl test_procmem test_trend test_leak test_report test_mb test_h5 \
	test_vbus test_venus test_smaps test_memlog test_heap
# libFuzzer harnesses (tests/fuzz); make check replays tests/fuzz/corpus
FUZZERS     = fuzz_jsonl fuzz_args fuzz_regmap fuzz_mb fuzz_dbus fuzz_procmem \
	fuzz_series fuzz_memlog fuzz_heap

# Every Debian package the build, tests, lint, benchmarks and demo need.
DEBS = build-essential pkg-config libpopt-dev libjansson-dev \
	libcmocka-dev bats mandoc cppcheck clang-format valgrind \
	sysstat python3-psutil python3-numpy bash-completion procps \
	time jq linux-perf strace python3-memory-profiler libmodbus-dev libcsv-dev python3-pymodbus \
	python3-serial python3-serial-asyncio mbpoll socat \
	libdbus-1-dev dbus-daemon dbus-bin python3-dbus python3-gi libglib2.0-bin \
	libhdf5-dev liblzf-dev python3-h5py hdf5-tools daemontools nodejs \
	clang libclang-rt-14-dev mosquitto mosquitto-clients python3-dev heaptrack
# and what make gx and check-gx need besides (cross compilers on an x86 or
# arm64 build machine; a Raspberry Pi builds natively with make)
GX_DEBS = gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu \
	binutils-arm-linux-gnueabihf binutils-aarch64-linux-gnu qemu-user-static \
	debootstrap autoconf automake libtool debian-archive-keyring

CC     ?= cc
CFLAGS ?= -O2 -g
PKGS    = popt jansson libmodbus dbus-1 hdf5 liblzf
GX_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	-D_FORTIFY_SOURCE=2 -Ilib $(CFLAGS) \
	-DGXKIT_MAPDIR='"$(PREFIX)/share/gxkit/maps"' \
	-DGXKIT_LIBDIR='"$(PREFIX)/lib/gxkit"' \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
GX_LIBS = -Wl,--as-needed -pthread $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lm

B ?= build
LIB_OBJS  = $(LIB_MODULES:%=$(B)/lib/%.o)
FUZZ_BINS = $(FUZZERS:%=$(B)/fuzz/%)
TOOL_BINS = $(TOOLS:%=$(B)/bin/%)
HELPER_BINS = $(HELPERS:%=$(B)/helpers/%)
UNIT_BINS = $(UNIT_TESTS:%=$(B)/unit/%)

.PHONY: all tools deps check lint bench demo soak install uninstall clean format print-tools \
	gx gx-deps check-gx check-asan fuzz

PRELOAD = $(B)/lib/gxkit/libgxkit-heap.so

all: $(TOOL_BINS) $(PRELOAD) $(HELPER_BINS) $(UNIT_BINS) $(FUZZ_BINS)

tools: $(TOOL_BINS) $(PRELOAD)

# Each object records the headers it includes (-MMD, into $(B)/deps, out
# of the way of the test runners' globs; -MP keeps a deleted header from
# breaking the build): a change in one header recompiles only what
# includes it, and programs relink.  Objects depend on the Makefile too:
# its flags are theirs.
DEPFLAGS = -MMD -MP -MF $(B)/deps/$(notdir $@).d
-include $(wildcard $(B)/deps/*.d)

# lib/ and cmd/ are ISO C11 to the letter (tests and harnesses use
# cmocka's and libFuzzer's extensions)
STRICT = -Wpedantic

$(B)/lib/%.o: lib/%.c Makefile
	@mkdir -p $(@D) $(B)/deps
	$(CC) $(GX_CFLAGS) $(STRICT) $(DEPFLAGS) -c -o $@ $<

$(B)/libgxkit.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(B)/cmd/%.o: cmd/%.c Makefile
	@mkdir -p $(@D) $(B)/deps
	$(CC) $(GX_CFLAGS) $(STRICT) $(DEPFLAGS) -c -o $@ $<

$(B)/bin/%: $(B)/cmd/%.o $(B)/libgxkit.a
	@mkdir -p $(@D)
	$(CC) $(GX_CFLAGS) -o $@ $< $(B)/libgxkit.a $(GX_LIBS)

# heap-watch's preload library: never sanitized (it runs inside the
# traced program, before any sanitizer could), needing nothing but glibc
# (libgcc_s's unwinder it opens at run time), only its hooks exported.
PRELOAD_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -g \
	-fPIC -fvisibility=hidden -Ilib
$(PRELOAD): preload/gxkit-heap.c lib/heap_proto.h Makefile
	@mkdir -p $(@D)
	$(CC) $(PRELOAD_CFLAGS) $(PRELOAD_EXTRA) -shared -Wl,-z,defs \
		-o $@ $< -ldl -lm -pthread

# kept, not removed as intermediates: the next build reuses them
.SECONDARY: $(TOOLS:%=$(B)/cmd/%.o) $(B)/fuzz/driver.o

# The helpers stand for real processes: never sanitized (their memory is
# what the tests measure), whatever CFLAGS the tools are built with.
HELPER_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -g
$(B)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(HELPER_CFLAGS) -o $@ $< -lm -pthread

$(B)/unit/%: tests/unit/%.c $(B)/libgxkit.a Makefile
	@mkdir -p $(@D) $(B)/deps
	$(CC) $(GX_CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libgxkit.a $(GX_LIBS) \
		$(shell pkg-config --libs cmocka 2>/dev/null)

# the harnesses with a driver that replays files, for make check
$(B)/fuzz/driver.o: tests/fuzz/driver.c tests/fuzz/fuzz.h Makefile
	@mkdir -p $(@D)
	$(CC) $(GX_CFLAGS) -Itests/fuzz -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(B)/fuzz/driver.o $(B)/libgxkit.a Makefile
	@mkdir -p $(@D) $(B)/deps
	$(CC) $(GX_CFLAGS) $(DEPFLAGS) -Itests/fuzz -o $@ $< $(B)/fuzz/driver.o \
		$(B)/libgxkit.a $(GX_LIBS)

# install the Debian packages $(1) that are missing (as root), or say how
define install_debs
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || printf ' %s' $$p; done); \
	if [ -z "$$missing" ]; then echo "$@: all installed"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "$@: missing:$$missing"; \
		echo "run as root: apt-get install -y --no-install-recommends$$missing"; \
		exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y --no-install-recommends $$missing || \
	{ apt-get update && apt-get install -y --no-install-recommends $$missing; }
endef

deps:
	$(call install_debs,$(DEBS))

gx-deps:
	$(call install_debs,$(GX_DEBS))

check: deps
	@$(MAKE) --no-print-directory all
	@tests/run-tests.sh

# The whole suite built with AddressSanitizer and UBSan (build-asan/);
# their leak checking stands in for valgrind's.  (-O1 sees less of the
# value ranges that keep -O2 quiet about snprintf into a fixed buffer.)
ASAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -Wno-format-truncation
check-asan: deps
	@$(MAKE) --no-print-directory B=build-asan CFLAGS="$(ASAN_CFLAGS)" all
	@GXKIT_BUILD=build-asan GXKIT_SANITIZED=1 tests/run-tests.sh

# Each harness under libFuzzer for FUZZ_SECONDS (default 60), from the seed
# corpus; what it finds lands in build-fuzz/<harness>/.
FUZZ_SECONDS ?= 60
fuzz: deps
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined,fuzzer-no-link" \
		build-fuzz/libgxkit.a
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

lint: all
	@tests/lint/lint.sh

bench: deps all
	@tests/bench/run.sh

demo: deps all
	@tests/demo.sh

soak: deps all
	@tests/soak/soak.sh

# GX tarballs (dist/gxkit-VERSION-{armhf,arm64}.tar.gz), cross-built against
# a Debian 11 (glibc 2.31) sysroot kept in build/gx; GX_ARCHS picks some.
GX_ARCHS ?= armhf arm64
gx: deps gx-deps
	@gx/build.sh $(GX_ARCHS)

# The tarballs' tools under qemu-user on a Debian 11 userland.
check-gx: gx all
	@gx/check.sh $(GX_ARCHS)

format:
	clang-format -i cmd/*.c lib/*.c lib/*.h preload/*.c tests/unit/*.c tests/helpers/*.c \
		tests/fuzz/*.c tests/fuzz/*.h

install: $(TOOL_BINS) $(PRELOAD)
	install -d $(DESTDIR)$(PREFIX)/lib/gxkit
	install -m 644 $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/gxkit
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(COMPLETIONSDIR)
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(TOOLS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/gxkit.7 $(DESTDIR)$(MANDIR)/man7
	install -d $(DESTDIR)$(PREFIX)/share/gxkit/maps
	install -m 644 lib/maps/*.csv $(DESTDIR)$(PREFIX)/share/gxkit/maps
	for t in $(TOOLS) gxkit-common; do install -m 644 \
		completions/$$t.bash $(DESTDIR)$(COMPLETIONSDIR)/$$t; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t \
		$(DESTDIR)$(MANDIR)/man1/$$t.1 $(DESTDIR)$(COMPLETIONSDIR)/$$t; done
	rm -f $(DESTDIR)$(COMPLETIONSDIR)/gxkit-common
	rm -f $(DESTDIR)$(MANDIR)/man7/gxkit.7
	rm -rf $(DESTDIR)$(PREFIX)/share/gxkit $(DESTDIR)$(PREFIX)/lib/gxkit

clean:
	rm -rf $(B) build-asan build-fuzz dist

print-tools:
	@echo $(TOOLS)
