/*
 * vbus: Victron Venus D-Bus over libdbus-1, both sides.  The service side
 * is a com.victronenergy.BusItem object tree behind one well-known name: a
 * struct vbus_service owns its items and their strings
 * (vbus_service_free).  The client side (vbus_client.c) calls services,
 * reads their items, and talks to com.victronenergy.settings; messages it
 * hands to callbacks belong to vbus and live for the callback only.
 * Functions return 0, or -1 with a message in the caller's buffer; names
 * and paths are checked here first, because libdbus asserts on bad ones.
 */
#ifndef GXKIT_VBUS_H
#define GXKIT_VBUS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dbus/dbus.h>

#include "jsonl.h"

#define VBUS_IFACE    "com.victronenergy.BusItem"
#define VBUS_SETTINGS "com.victronenergy.settings"

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
/*
 * SetValue's results, as the BusItem services answer it: done (or the
 * value unchanged), not writable (or a value of the wrong type), refused
 * by the owner; VBUS_SET_LATER is no answer yet, only a handler's.
 */
enum vbus_set_result {
	VBUS_SET_LATER = -1,
	VBUS_SET_DONE = 0,
	VBUS_SET_NOT_WRITABLE = 1,
	VBUS_SET_REFUSED = 2
};

/*
 * Called for SetValue on a writable item with a value of its type; returns
 * VBUS_SET_DONE (vbus stores v), VBUS_SET_REFUSED, or VBUS_SET_LATER after
 * keeping call (vbus_set_keep): the answer then comes from
 * vbus_answer_set(), or the call is dropped by vbus_set_forget().
 */
typedef int (*vbus_set_fn)(struct vbus_service *s, struct vbus_item *item,
                           const struct vbus_value *v, DBusMessage *call,
                           void *user);

enum { VBUS_SIGNAL_ITEMS = 1, VBUS_SIGNAL_PROPERTIES = 2 };

struct vbus_service {
	DBusConnection *conn;
	struct vbus_item *items;
	size_t n, cap;
	uint32_t *index;  /* open addressing: item number + 1, 0 empty */
	size_t index_cap; /* a power of two, over twice n */
	vbus_set_fn on_set;
	void *user;
	int signals; /* VBUS_SIGNAL_* */
};

/* "session", "system", or NULL (session when DBUS_SESSION_BUS_ADDRESS is
 * set, else system); address overrides both.  A private connection. */
DBusConnection *vbus_connect(const char *which, const char *address, char *err,
                             size_t errlen);
/* Close and release a connection from vbus_connect (NULL is fine). */
void vbus_disconnect(DBusConnection *conn);
/* At the very end: libdbus's own memory freed, for leak checkers. */
void vbus_shutdown(void);
/* The connection's socket, for poll(2); -1 when it has none. */
int vbus_fd(DBusConnection *conn);
/* Still connected to the bus? */
bool vbus_connected(DBusConnection *conn);
/* Send what is queued, then vbus_dispatch(); whether still connected. */
bool vbus_serve(DBusConnection *conn, const volatile sig_atomic_t *stop);

/* A well-known bus name ("com.victronenergy.x") or an object path that
 * libdbus accepts; 0, or -1 with the reason. */
int vbus_check_name(const char *name, char *err, size_t errlen);
int vbus_check_path(const char *path, char *err, size_t errlen);

/*
 * Read what the socket holds (without waiting) and run the handler of
 * every message libdbus has queued; stops early once *stop is set (stop
 * may be NULL).  Blocking calls and dbus_connection_flush() read too,
 * into a queue poll(2) cannot see: call this right before polling, or
 * such a message waits unanswered.
 */
void vbus_dispatch(DBusConnection *conn, const volatile sig_atomic_t *stop);

/* ---- service ------------------------------------------------------------ */

/* Add an item; the value is copied.  A path added again returns the
 * first item, which takes unit if it had none.  NULL for a path libdbus
 * refuses (vbus_check_path says why) or when memory ran out.  Items move
 * when one is added: do not keep pointers across vbus_add.  Lookups by
 * path take constant time. */
struct vbus_item *vbus_add(struct vbus_service *s, const char *path,
                           const struct vbus_value *v, bool writable,
                           const char *unit);
struct vbus_item *vbus_find(struct vbus_service *s, const char *path);
/* The hash vbus_find's index uses (FNV-1a), for callers' own sets. */
uint32_t vbus_path_hash(const char *path);
/* Register the object tree, then request the name (do-not-queue): a name
 * that appears before its paths makes Venus skip the device. */
int vbus_publish(struct vbus_service *s, const char *name, char *err,
                 size_t errlen);
/* Change a value; a change is signalled at the next vbus_flush(). */
void vbus_set(struct vbus_service *s, struct vbus_item *item,
              const struct vbus_value *v);
/* ItemsChanged and/or PropertiesChanged for what changed; 0 or -1. */
int vbus_flush(struct vbus_service *s);
/* A SetValue call kept for a later answer (a reference taken). */
DBusMessage *vbus_set_keep(DBusMessage *call);
/* The answer to a kept SetValue; drops the reference. */
void vbus_answer_set(struct vbus_service *s, DBusMessage *call, int result);
/* A kept SetValue that will never be answered (its peer left): dropped. */
void vbus_set_forget(DBusMessage *call);
/* Give up the name (the service vanishes for its peers) and send that. */
void vbus_unpublish(struct vbus_service *s, const char *name);
void vbus_service_free(struct vbus_service *s);

/* ---- values ------------------------------------------------------------- */

struct vbus_value vbus_double(double d);
struct vbus_value vbus_int(int64_t i);
struct vbus_value vbus_string(const char *s); /* not copied */
struct vbus_value vbus_invalid(void);
bool vbus_equal(const struct vbus_value *a, const struct vbus_value *b);
/* dst takes a copy of src (strings duplicated; freed by vbus_value_clear) */
void vbus_value_copy(struct vbus_value *dst, const struct vbus_value *src);
void vbus_value_clear(struct vbus_value *v);
/* GetText: "---" for invalid, else the value and the unit. */
void vbus_text(const struct vbus_item *item, char *buf, size_t len);
/* Append v as a variant; invalid is an empty array of int32. */
void vbus_append_variant(DBusMessageIter *it, const struct vbus_value *v);
/* A variant or basic value as a vbus value (strings point into the
 * message); an empty array is invalid.  false for any other type. */
bool vbus_value_from_iter(DBusMessageIter *it, struct vbus_value *v);
/* A JSON number, string or null (strings point into j); -1 otherwise. */
int vbus_value_from_json(json_t *j, struct vbus_value *v);

/*
 * A variant (or any value) at it as native JSON under key: numbers,
 * strings, booleans, arrays, objects for dictionaries (keys of any basic
 * type as their JSON text); an empty array (invalid) is null.  What JSON
 * cannot carry is returned as VBUS_JSON_* bits for the caller to report:
 * a unix fd is null (and closed), containers nested to the writer's depth
 * limit are the string VBUS_JSON_CUT_MARK.
 */
#define VBUS_JSON_FD       1u
#define VBUS_JSON_CUT      2u
#define VBUS_JSON_CUT_MARK "<nested too deep>"
unsigned vbus_write_json(struct jsonl_writer *w, const char *key,
                         DBusMessageIter *it);
/* The string in a variant, or NULL. */
const char *vbus_variant_string(DBusMessageIter *it);

/* ---- client ------------------------------------------------------------- */

struct vbus_client {
	DBusConnection *conn;
	int timeout_ms; /* of every blocking call */
};

/* A blocking call with at most one argument (a variant); the reply, which
 * the caller unrefs, or NULL with the error in err. */
DBusMessage *vbus_call(const struct vbus_client *c, const char *dest,
                       const char *path, const char *iface, const char *method,
                       const struct vbus_value *arg, char *err, size_t errlen);
/* The unique name owning name (malloc'd), or NULL when there is none. */
char *vbus_name_owner(const struct vbus_client *c, const char *name);
/* Every well-known name on the bus, to fn; 0 or -1. */
int vbus_list_names(const struct vbus_client *c,
                    void (*fn)(const char *name, void *user), void *user,
                    char *err, size_t errlen);
/* Add a match rule; 0 or -1. */
int vbus_add_match(const struct vbus_client *c, const char *rule, char *err,
                   size_t errlen);

/* One item seen: its path, its value (a variant or basic) and its text
 * (NULL when unknown). */
typedef void (*vbus_item_fn)(void *user, const char *path,
                             DBusMessageIter *value, const char *text);
/* a{sa{sv}}, as GetItems and ItemsChanged carry it. */
void vbus_each_item(DBusMessageIter *it, vbus_item_fn fn, void *user);
/* a{sv} with Value and Text, as PropertiesChanged and GetItems carry it. */
void vbus_value_text(const char *path, DBusMessageIter *dict, vbus_item_fn fn,
                     void *user);

/* How vbus_read_service got the items. */
enum vbus_read {
	VBUS_READ_NONE,  /* the service answered nothing usable */
	VBUS_READ_ITEMS, /* GetItems: the service sends ItemsChanged too */
	VBUS_READ_ROOT,  /* GetValue on "/" */
	VBUS_READ_WALK   /* introspection, GetValue per leaf */
};
/* Every item of service, by GetItems, else GetValue on "/", else a walk
 * of the introspection tree; with text, GetText where the way has none. */
enum vbus_read vbus_read_service(const struct vbus_client *c,
                                 const char *service, bool text,
                                 vbus_item_fn fn, void *user);
/* GetValue (and GetText with text) of one path; 0 or -1. */
int vbus_get_value(const struct vbus_client *c, const char *service,
                   const char *path, bool text, vbus_item_fn fn, void *user,
                   char *err, size_t errlen);
/* SetValue; its integer result in *result; 0, or -1 when the call failed. */
int vbus_set_value(const struct vbus_client *c, const char *service,
                   const char *path, const struct vbus_value *v, int *result,
                   char *err, size_t errlen);
/*
 * SetValue without waiting: done runs from vbus_dispatch() with the result
 * (error NULL) or the error (result -1); then free_user(user), also when
 * the call never completes.  0, or -1 when it could not be sent.
 */
typedef void (*vbus_done_fn)(void *user, int result, const char *error);
int vbus_set_value_async(const struct vbus_client *c, const char *service,
                         const char *path, const struct vbus_value *v,
                         vbus_done_fn done, void *user,
                         void (*free_user)(void *user));

/* ---- health (dbus-watch --check) ---------------------------------------- */

/* A path's state, worst last; the exit status each gives (gxkit(7)). */
enum vbus_health {
	VBUS_HEALTH_OK,         /* a value (that changed in time, if asked) */
	VBUS_HEALTH_STALE,      /* a value that did not change in time */
	VBUS_HEALTH_INVALID,    /* an empty array: Venus's "no value" */
	VBUS_HEALTH_ABSENT,     /* no such object, or no answer for it */
	VBUS_HEALTH_NO_SERVICE, /* nobody owns the service's name */
	VBUS_HEALTH_NO_BUS      /* the bus cannot be reached */
};
/* "ok", "stale", "invalid", "absent", "no_service", "no_bus". */
const char *vbus_health_name(enum vbus_health h);
/* The exit status of the worst of n states: 0, CLI_EXIT_STALE,
 * CLI_EXIT_BAD_PATH, CLI_EXIT_NO_SERVICE or CLI_EXIT_FAILURE (exitcodes.h):
 * a bus down wins over a service missing, that over a path absent or
 * invalid, that over one stale. */
int vbus_health_exit(const enum vbus_health *h, size_t n);
/* GetValue of path (and GetText with text): its state, never STALE; the
 * value to fn when there is one; what went wrong in err otherwise. */
enum vbus_health vbus_get_health(const struct vbus_client *c,
                                 const char *service, const char *path,
                                 bool text, vbus_item_fn fn, void *user,
                                 char *err, size_t errlen);

/* ---- watching services -------------------------------------------------- */

/*
 * Services followed by name on a client's connection: NameOwnerChanged,
 * PropertiesChanged and ItemsChanged are decoded here, once, into three
 * callbacks.  A service may send a change by both signals (Victron's C++
 * services) or each change by one (velib_python's vedbus.py: a `with
 * service` block's as ItemsChanged, an assignment as PropertiesChanged):
 * both are read, and, as velib_python's dbusmonitor.py does, a change is
 * a value that differs from the last one of its path; a repeat is not
 * passed on.  The struct owns its table of services and what they sent
 * last (vbus_watch_free()); names and values handed to callbacks live for
 * the call only.
 */
#define VBUS_WATCH_MAX 256 /* services followed; later ones are not */
#define VBUS_SEEN_MAX                                                          \
	16384 /* paths a service's last values are kept                        \
	       * for (16 bytes each); past them, every                         \
	       * signal of a new path is passed on */
struct vbus_watch_ops {
	/* a service appeared; initial: it was there when listed */
	void (*appeared)(void *user, const char *service, const char *owner,
	                 bool initial);
	void (*vanished)(void *user, const char *service, const char *owner);
	/* a value (a variant or basic) and its text (NULL when unknown) */
	void (*changed)(void *user, const char *service, const char *path,
	                DBusMessageIter *value, const char *text);
};
struct vbus_seen; /* a path's hash and its last value's */
struct vbus_watched {
	char *name, *owner;
	struct vbus_seen *seen; /* open addressing, cap a power of 2 */
	size_t nseen, cap;
};
struct vbus_watch {
	const struct vbus_client *bus;
	const char *service;        /* a glob, or one name */
	const char *path_namespace; /* values under it only; NULL: all */
	bool read_values;           /* every value of a service, as it
	                             * appears, to changed() */
	bool text;                  /* ... with its text */
	struct vbus_watch_ops ops;
	void *user;
	struct vbus_watched svc[VBUS_WATCH_MAX];
	size_t n;
	bool filtering; /* the filter is on bus->conn */
};
/* Follow w->service from now on: match rules and a filter; 0 or -1. */
int vbus_watch_start(struct vbus_watch *w, char *err, size_t errlen);
/* The services on the bus now, each to appeared() as initial; 0 or -1. */
int vbus_watch_list(struct vbus_watch *w, char *err, size_t errlen);
/* The owner of a followed service, or NULL when it is not there. */
const char *vbus_watch_owner(const struct vbus_watch *w, const char *service);
void vbus_watch_free(struct vbus_watch *w);

/* ---- com.victronenergy.settings ---------------------------------------- */

/* One entry of AddSettings: what to ask for, and what came back. */
struct vbus_setting {
	const char *path; /* absolute: "/Settings/Devices/x/Position" */
	struct vbus_value def;
	bool limits; /* min and max are sent (numbers only) */
	double min, max;
	int error;               /* answer: 0, or VBUS_SETTING_* */
	struct vbus_value value; /* answer, owned (vbus_value_clear) */
};
/* localsettings' AddSettingError codes. */
enum {
	VBUS_SETTING_UNDERSCORE = -2,
	VBUS_SETTING_UNKNOWN_TYPE = -3,
	VBUS_SETTING_INVALID_PATH = -4,
	VBUS_SETTING_TYPE_DIFFERS = -5,
	VBUS_SETTING_INVALID_DEFAULT = -6,
	VBUS_SETTING_OUT_OF_RANGE = -7,
	VBUS_SETTING_IS_GROUP = -8,
	VBUS_SETTING_NOT_IN_SETTINGS = -9,
	VBUS_SETTING_NO_ANSWER = -100 /* the reply left the entry out */
};
/* "NotInSettings" for -9, ... */
const char *vbus_setting_error_name(int code);
/* AddSettings(aa{sv}) on "/": fills error and value of each entry; 0 when
 * the service answered, -1 (err) when the call failed as a whole. */
int vbus_settings_add(const struct vbus_client *c, struct vbus_setting *s,
                      size_t n, char *err, size_t errlen);

#endif
