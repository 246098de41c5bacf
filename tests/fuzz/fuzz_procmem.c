/* procmem's parsers of /proc text: stat, status and smaps_rollup; and
 * smaps's streaming parser, fed the same bytes whole and in pieces. */
#include "fuzz.h"
#include "procmem.h"
#include "smaps.h"

static struct smaps_parser parser;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procmem_sample s;
	char *text = fuzz_cstr(data, size);

	memset(&s, 0, sizeof(s));
	(void)procmem_parse_stat(text, &s);
	procmem_parse_status(text, &s);
	procmem_parse_rollup(text, &s);
	(void)procmem_name_matches(text, s.comm, text, strlen(text));
	free(text);
	for (size_t piece = 7; piece <= 4099 && size > 0; piece += 4092) {
		struct smaps_totals t, sum;

		smaps_begin(&parser, &t);
		for (size_t at = 0; at < size; at += piece)
			smaps_feed(&parser, (const char *)data + at,
			           size - at < piece ? size - at : piece);
		smaps_end(&parser);
		memset(&sum, 0, sizeof(sum));
		smaps_add(&sum, &t);
	}
	return 0;
}
