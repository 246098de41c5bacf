/* What users type: bus specs, unit lists, durations, sizes, signals,
 * register types.  The first byte picks the parser. */
#include <stdbool.h>

#include "fuzz.h"
#include "cli.h"
#include "mb.h"
#include "parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, err[256];
	struct mb_bus bus;
	bool units[256];
	uint64_t ms;
	double v;
	bool suffix, low;
	enum mb_type type;
	int words, sig;
	long l;

	if (size == 0)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	switch (data[0] % 7) {
	case 0:
		if (mb_parse_bus(s, &bus, err, sizeof(err)) == 0 &&
		    ((bus.kind == MB_RTU && bus.baud <= 0) ||
		     (bus.kind == MB_TCP &&
		      (bus.port < 1 || bus.port > 65535))))
			abort();
		break;
	case 1:
		(void)mb_parse_units(s, units, 4096, err, sizeof(err));
		break;
	case 2:
		if (parse_duration(s, &ms) == 0 && ms > UINT64_MAX / 2)
			abort();
		break;
	case 3:
		if (parse_size(s, &v, &suffix) == 0 && !(v >= 0))
			abort();
		break;
	case 4:
		if (mb_parse_type(s, &type, &words, &low) == 0 &&
		    (words < 1 || words > 125))
			abort();
		break;
	case 5:
		(void)parse_signal(s, &sig);
		break;
	default:
		(void)parse_long(s, -5, 5, &l);
	}
	free(s);
	return 0;
}
