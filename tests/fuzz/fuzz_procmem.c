/* procmem's parsers of /proc text: stat, status and smaps_rollup. */
#include "fuzz.h"
#include "procmem.h"

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
	return 0;
}
