/* Modbus decoding and request planning: a register described by the
 * first bytes (type, words, scale, enum and invalid lists) decoded from
 * the rest as response words. */
#include <math.h>

#include "fuzz.h"
#include "mb.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *types[] = {"u16",   "s16",   "u32",    "s32le",
	                              "u64",   "s64",   "f32",    "f32le",
	                              "str:1", "str:8", "str:64", "s32"};
	long raws[4] = {0, -1, 65535, 7};
	char *labels[4] = {"a", "b", "c", "d"};
	struct mb_reg r = {0};
	struct mb_request req[8];
	struct mb_reg many[8];
	uint16_t words[64] = {0};
	struct mb_value v;
	double scale;
	size_t i;

	if (size < 12)
		return 0;
	if (mb_parse_type(types[data[0] % 12], &r.type, &r.words,
	                  &r.low_first) < 0)
		abort();
	memcpy(&scale, data + 1, sizeof(scale));
	r.scale = isfinite(scale) && scale != 0 ? scale : 1;
	r.fc = data[9] & 1 ? MB_INPUT : MB_HOLDING;
	r.address = (uint16_t)(data[10] << 8 | data[11]);
	r.text_raw = raws;
	r.text = labels;
	r.ntext = data[9] >> 1 & 3;
	r.invalid = raws;
	r.ninvalid = data[9] >> 3 & 3;
	memcpy(words, data + 12,
	       size - 12 < sizeof(words) ? size - 12 : sizeof(words));
	mb_decode(&r, words, &v);
	if (v.kind == MB_TEXT && memchr(v.text, 0, sizeof(v.text)) == NULL)
		abort();
	mb_encode(&r, v.num, v.kind == MB_TEXT ? v.text : NULL, words);
	for (i = 0; i < 8; i++) {
		many[i] = r;
		many[i].address = (uint16_t)(r.address + words[i] % 300);
	}
	if (mb_plan(many, 8, 1 + data[1] % 125, data[2] % 40, req, 8) == 0)
		abort();
	return 0;
}
