/* D-Bus values to JSON: any message libdbus accepts (it validates what it
 * demarshals, as it does what comes off the socket) written as a record,
 * which jansson must read back. */
#include <dbus/dbus.h>

#include "fuzz.h"
#include "jsonl.h"
#include "vbus.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec ts = {1, 0};
	struct jsonl_writer w;
	DBusMessageIter it;
	DBusMessage *msg;
	DBusError e;
	json_t *back;

	dbus_error_init(&e);
	msg = dbus_message_demarshal((const char *)data, (int)size, &e);
	dbus_error_free(&e);
	if (msg == NULL)
		return 0;
	jsonl_writer_init(&w, NULL);
	jsonl_begin(&w, &ts, "fuzz");
	if (dbus_message_iter_init(msg, &it))
		do
			(void)vbus_write_json(&w, "value", &it);
		while (dbus_message_iter_next(&it));
	jsonl_raw(&w, "}", 1);
	if (w.failed)
		abort();
	back = json_loadb(w.buf, w.len, JSON_ALLOW_NUL, NULL);
	if (back == NULL)
		abort(); /* written, and not readable */
	json_decref(back);
	jsonl_writer_free(&w);
	dbus_message_unref(msg);
	return 0;
}
