/* Other recorders' logs (lib/memlog) line by line in every format, and
 * what they give fed to the mapping attribution (lib/where) as readings,
 * NaN, disorder and all. */
#include <math.h>
#include <stdio.h>

#include "fuzz.h"
#include "memlog.h"
#include "where.h"

static void
to_where(struct where_set *w, const struct memlog_sample *s)
{
	struct where_reading r = {.ts = s->ts, .arenas = NAN, .threads = NAN};
	size_t i;
	int c;

	for (c = 0; c < SMAPS_NCLASS; c++)
		r.class_kb[c] = s->n > 0 ? s->values[(size_t)c % s->n] : 0;
	for (i = 0; i < s->n && r.ntop < SMAPS_TOP; i++) {
		snprintf(r.top[r.ntop].name, SMAPS_NAME_MAX, "%s", s->names[i]);
		r.top[r.ntop++].kb = s->values[i];
	}
	if (s->n > 1)
		r.arenas = s->values[1], r.threads = s->values[0];
	if (where_add(w, &r) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct where_item items[WHERE_NAMES];
	struct where_arena_evidence e;
	struct where_set w;
	enum memlog_format f;

	memset(&w, 0, sizeof(w));
	for (f = MEMLOG_PSRECORD; f <= MEMLOG_CSV; f++) {
		char *copy = strdup(text), *line, *save = NULL;
		struct memlog m;

		if (copy == NULL)
			abort();
		memlog_init(&m, f, f == MEMLOG_MPROF && size % 2 ? 1 : -1);
		(void)memlog_sniff(copy);
		for (line = strtok_r(copy, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			struct memlog_sample s;
			const char *why;

			if (memlog_line(&m, line, &s, &why) == 1)
				to_where(&w, &s);
		}
		free(copy);
	}
	if (where_attribute(&w, size % 3 ? 0 : NAN, items, WHERE_NAMES) < 0 ||
	    where_arenas(&w, 0, &e) < 0)
		abort();
	where_free(&w);
	free(text);
	return 0;
}
