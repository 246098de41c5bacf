/*
 * vbus: Victron Venus D-Bus over libdbus-1: a com.victronenergy.BusItem
 * service (one object tree behind one well-known name) and the conversion
 * of D-Bus values to JSON for watchers.  A struct vbus_service owns its
 * items and their strings (vbus_service_free); functions return 0, or -1
 * with a message in the caller's buffer.
 */
#ifndef GXKIT_VBUS_H
#define GXKIT_VBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dbus/dbus.h>

#include "jsonl.h"

#define VBUS_IFACE "com.victronenergy.BusItem"

enum vbus_kind { VBUS_INVALID, VBUS_DOUBLE, VBUS_INT, VBUS_STRING };

struct vbus_value {
	enum vbus_kind kind;
	double d;
	int64_t i;
	char *s; /* owned by whoever holds the value */
};

struct vbus_item {
	char *path; /* "/Ac/Power" */
	struct vbus_value value;
	char *unit; /* appended to the text: "230.1V" */
	char *description;
	bool writable, changed;
	bool text; /* holds text, else a number: the type SetValue accepts */
};

struct vbus_service;
/* Called for SetValue on a writable item; returns 0 (done), 2 (rejected). */
typedef int (*vbus_set_fn)(struct vbus_service *s, struct vbus_item *item,
                           const struct vbus_value *v, void *user);

enum { VBUS_SIGNAL_ITEMS = 1, VBUS_SIGNAL_PROPERTIES = 2 };

struct vbus_service {
	DBusConnection *conn;
	struct vbus_item *items;
	size_t n, cap;
	vbus_set_fn on_set;
	void *user;
	int signals; /* VBUS_SIGNAL_* */
};

/* "session", "system", or NULL (session when DBUS_SESSION_BUS_ADDRESS is
 * set, else system); address overrides both. */
DBusConnection *vbus_connect(const char *which, const char *address, char *err,
                             size_t errlen);

/*
 * Read what the socket holds (without waiting) and run the handler of
 * every message libdbus has queued; stops early on cli_stop.  Blocking
 * calls and dbus_connection_flush() read too, into a queue poll(2) cannot
 * see: call this right before polling, or such a message waits unanswered.
 */
void vbus_dispatch(DBusConnection *conn);

/* Add an item (before vbus_publish); the value is copied.  A path added
 * again returns the first item, which takes unit if it had none. */
struct vbus_item *vbus_add(struct vbus_service *s, const char *path,
                           const struct vbus_value *v, bool writable,
                           const char *unit);
struct vbus_item *vbus_find(struct vbus_service *s, const char *path);
/* Register the object tree, then request the name (do-not-queue): a name
 * that appears before its paths makes Venus skip the device. */
int vbus_publish(struct vbus_service *s, const char *name, char *err,
                 size_t errlen);
/* Change a value; a change is signalled at the next vbus_flush(). */
void vbus_set(struct vbus_service *s, struct vbus_item *item,
              const struct vbus_value *v);
/* ItemsChanged and/or PropertiesChanged for what changed; 0 or -1. */
int vbus_flush(struct vbus_service *s);
void vbus_service_free(struct vbus_service *s);

/* Value helpers. */
struct vbus_value vbus_double(double d);
struct vbus_value vbus_int(int64_t i);
struct vbus_value vbus_string(const char *s); /* not copied */
struct vbus_value vbus_invalid(void);
bool vbus_equal(const struct vbus_value *a, const struct vbus_value *b);
/* GetText: "---" for invalid, else the value and the unit. */
void vbus_text(const struct vbus_item *item, char *buf, size_t len);
/* Append v as a variant; invalid is an empty array of int32. */
void vbus_append_variant(DBusMessageIter *it, const struct vbus_value *v);

/*
 * A variant (or any value) at it as native JSON under key: numbers,
 * strings, booleans, arrays, objects for dictionaries; an empty array
 * (invalid) is null.
 */
void vbus_write_json(struct jsonl_writer *w, const char *key,
                     DBusMessageIter *it);
/* The string in a variant, or NULL. */
const char *vbus_variant_string(DBusMessageIter *it);

#endif
