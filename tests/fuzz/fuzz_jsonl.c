/* The JSONL reader (lines, lengths, jansson) and the fast field scanner:
 * both must take or refuse each line alike, and agree on the values. */
#include <stdio.h>

#include "fuzz.h"
#include "cli.h"
#include "jsonl.h"

static void
compare(struct jsonl_reader *r)
{
	struct jsonl_field f[] = {{.name = "ts"},
	                          {.name = "rss_kb"},
	                          {.name = "event"},
	                          {.name = "ts"}};
	json_t *obj = jsonl_parse_line(r), *ts;
	int col;
	bool scanned = jsonl_scan(r->line, r->len, f, 4, &col) == 0;

	if ((obj != NULL) != scanned)
		abort(); /* the two readers disagree on this line */
	ts = obj ? json_object_get(obj, "ts") : NULL;
	if (json_is_number(ts) && f[0].num != json_number_value(ts))
		abort();
	if (json_is_number(ts) && f[3].num != f[0].num)
		abort();
	json_decref(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	struct jsonl_reader r;

	cli_common.quiet = 1;
	if (size == 0 || fp == NULL) {
		if (fp != NULL)
			fclose(fp);
		return 0;
	}
	jsonl_reader_init(&r, fp, "fuzz");
	r.max_line = 512;
	while (jsonl_next_line(&r) == 1)
		compare(&r);
	jsonl_reader_free(&r);
	fclose(fp);
	return 0;
}
