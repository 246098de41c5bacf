/* Register-map CSV (libcsv) with its "# key: value" lines, then every
 * register it accepts decoded from the words that follow the map: the
 * whole path from a user's map file to a value. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "mb.h"
#include "regmap.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint16_t words[125]; /* the most one Modbus read returns */
	const uint8_t *end = memchr(data, 0, size);
	size_t csv = end ? (size_t)(end - data) : size, i;
	char path[64], err[512];
	struct regmap m;
	struct mb_value v;
	int fd = memfd_create("map.csv", 0);

	if (fd < 0 || write(fd, data, csv) != (ssize_t)csv) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	memset(words, 0, sizeof(words));
	if (end != NULL)
		memcpy(words, end + 1,
		       size - csv - 1 < sizeof(words) ? size - csv - 1
		                                      : sizeof(words));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (regmap_load(path, &m, err, sizeof(err)) == 0) {
		for (i = 0; i < m.n; i++) {
			if (m.regs[i].words < 1 || m.regs[i].words > 125)
				abort(); /* the map let a register past its
				            words */
			mb_decode(&m.regs[i], words, &v);
		}
		regmap_free(&m);
	}
	close(fd);
	return 0;
}
