/* leak-classify's statistics on arbitrary series: the bytes are (ts,
 * value) pairs of doubles, NaN, infinities, disorder and all, streamed as
 * records are, then judged. */
#include <math.h>

#include "fuzz.h"
#include "leak.h"
#include "trend.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct leak_rules rules;
	struct leak_stream st;
	struct leak_faults faults = {0};
	struct leak_result res;
	double t[64], v[64], et[8], ev[8];
	size_t i, n = size / 16;

	leak_rules_default(&rules);
	if (leak_stream_init(&st, size % 2 ? -1 : 1, &rules) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct leak_sample x = {.aux = NAN, .age_s = NAN};

		memcpy(&x.ts, data + 16 * i, 8);
		memcpy(&x.value, data + 16 * i + 8, 8);
		x.restart = (data[16 * i] & 0x3f) == 0x3f;
		if (i < 64) {
			t[i] = x.ts;
			v[i] = x.value;
		}
		leak_stream_add(&st, &x);
	}
	leak_series_flush(&st.series);
	(void)leak_classify(&st.series, &rules, &faults, &res);
	if (trend_envelope(t, v, n < 64 ? n : 64, 8, true, et, ev) > 8)
		abort();
	leak_stream_free(&st);
	return 0;
}
