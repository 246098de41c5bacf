/* heap-watch's input from the traced process (lib/heapsite): any bytes as
 * a run of datagrams (each a 2-byte length, then its bytes), assembled,
 * and every snapshot that completes named against the maps it sent
 * (lib/elfsym's parser, files that are not there included). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "heapsite.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct heap_assembly a;
	struct elfsym_cache c;
	struct heap_naming how = {3, false};
	size_t at = 0;

	memset(&c, 0, sizeof(c));
	while (at + 2 <= size) {
		size_t n = (size_t)data[at] | (size_t)(data[at + 1] & 0x0f)
		                                  << 8;
		struct heap_snapshot *done = NULL;
		struct heap_sites out;
		const char *note;
		size_t note_len;
		unsigned char msg[HEAP_MSG_MAX];

		at += 2;
		if (n > size - at)
			n = size - at;
		memcpy(msg, data + at, n);
		at += n;
		if (heap_feed(&a, msg, n, &done, &note, &note_len) !=
		    HEAP_FEED_DONE)
			continue;
		if (done->maps_len > 0 && elfsym_parse_maps(&c, done->maps) < 0)
			abort();
		if (heap_sites_name(done, &c, &how, &out) < 0)
			abort();
		heap_sites_free(&out);
	}
	elfsym_free(&c);
	heap_assembly_free(&a);
	return 0;
}
