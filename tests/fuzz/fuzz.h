/*
 * Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): each defines
 * LLVMFuzzerTestOneInput over one parser of untrusted input.  Built with
 * clang -fsanitize=fuzzer for `make fuzz`, and with driver.c, which feeds
 * the files named on its command line, for the regression inputs that
 * `make check` runs.  A harness aborts on a disagreement it checks.
 */
#ifndef GXKIT_FUZZ_H
#define GXKIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (NULs inside cut it short); the
 * caller frees it. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
