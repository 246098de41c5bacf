/*
 * The client side of vbus: calls, name lookups, reading a service's items
 * in the three ways Venus services answer, SetValue, services watched as
 * they come, go and change, and AddSettings on com.victronenergy.settings.
 * Every iterator checks the type it reads: a peer can send anything.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "vbus.h"

#define WALK_DEPTH 16 /* deeper introspection trees are cut */

/* "what: org.freedesktop.DBus.Error.X: message" */
static void
set_err(char *err, size_t errlen, const char *what, DBusError *e)
{
	size_t n;

	snprintf(err, errlen, "%s: %s%s%s", what, e->name ? e->name : "error",
	         e->message ? ": " : "", e->message ? e->message : "");
	/* libdbus ends some of its messages with a newline */
	for (n = strlen(err); n > 0 && err[n - 1] == '\n'; n--)
		err[n - 1] = '\0';
	dbus_error_free(e);
}

static DBusMessage *
new_call(const char *dest, const char *path, const char *iface,
         const char *method, const struct vbus_value *arg, char *err,
         size_t errlen)
{
	DBusMessage *msg;
	DBusMessageIter it;

	if (dest == NULL || !dbus_validate_bus_name(dest, NULL) ||
	    !dbus_validate_path(path, NULL) ||
	    !dbus_validate_interface(iface, NULL) ||
	    !dbus_validate_member(method, NULL)) {
		snprintf(err, errlen, "%s %s: not a valid name or path",
		         dest ? dest : "", path);
		return NULL;
	}
	msg = dbus_message_new_method_call(dest, path, iface, method);
	if (msg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (arg != NULL) {
		dbus_message_iter_init_append(msg, &it);
		vbus_append_variant(&it, arg);
	}
	return msg;
}

static DBusMessage *
send_blocking(const struct vbus_client *c, DBusMessage *msg, char *err,
              size_t errlen)
{
	DBusMessage *reply;
	DBusError e;

	dbus_error_init(&e);
	reply = dbus_connection_send_with_reply_and_block(c->conn, msg,
	                                                  c->timeout_ms, &e);
	dbus_message_unref(msg);
	if (reply == NULL)
		set_err(err, errlen, "call failed", &e);
	return reply;
}

DBusMessage *
vbus_call(const struct vbus_client *c, const char *dest, const char *path,
          const char *iface, const char *method, const struct vbus_value *arg,
          char *err, size_t errlen)
{
	DBusMessage *msg =
	    new_call(dest, path, iface, method, arg, err, errlen);

	return msg != NULL ? send_blocking(c, msg, err, errlen) : NULL;
}

/* The first argument of reply if it is a string, else NULL. */
static const char *
reply_string(DBusMessage *reply)
{
	DBusMessageIter it;
	const char *s;

	if (!dbus_message_iter_init(reply, &it) ||
	    dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_STRING)
		return NULL;
	dbus_message_iter_get_basic(&it, &s);
	return s;
}

char *
vbus_name_owner(const struct vbus_client *c, const char *name)
{
	DBusMessage *msg, *reply;
	const char *owner;
	char err[256], *copy = NULL;

	if (name == NULL || !dbus_validate_bus_name(name, NULL))
		return NULL;
	msg = new_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
	               "GetNameOwner", NULL, err, sizeof(err));
	if (msg == NULL ||
	    !dbus_message_append_args(msg, DBUS_TYPE_STRING, &name,
	                              DBUS_TYPE_INVALID)) {
		if (msg != NULL)
			dbus_message_unref(msg);
		return NULL;
	}
	reply = send_blocking(c, msg, err, sizeof(err));
	if (reply == NULL)
		return NULL; /* NameHasNoOwner */
	owner = reply_string(reply);
	if (owner != NULL)
		copy = strdup(owner);
	dbus_message_unref(reply);
	return copy;
}

int
vbus_list_names(const struct vbus_client *c,
                void (*fn)(const char *name, void *user), void *user, char *err,
                size_t errlen)
{
	DBusMessage *reply;
	DBusMessageIter it, arr;

	reply = vbus_call(c, DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
	                  DBUS_INTERFACE_DBUS, "ListNames", NULL, err, errlen);
	if (reply == NULL)
		return -1;
	if (dbus_message_iter_init(reply, &it) &&
	    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
		dbus_message_iter_recurse(&it, &arr);
		while (dbus_message_iter_get_arg_type(&arr) ==
		       DBUS_TYPE_STRING) {
			const char *name;

			dbus_message_iter_get_basic(&arr, &name);
			if (name[0] != ':')
				fn(name, user);
			dbus_message_iter_next(&arr);
		}
	}
	dbus_message_unref(reply);
	return 0;
}

int
vbus_add_match(const struct vbus_client *c, const char *rule, char *err,
               size_t errlen)
{
	DBusError e;

	dbus_error_init(&e);
	dbus_bus_add_match(c->conn, rule, &e);
	if (!dbus_error_is_set(&e))
		return 0;
	set_err(err, errlen, "add match", &e);
	return -1;
}

/* ---- items -------------------------------------------------------------- */

void
vbus_value_text(const char *path, DBusMessageIter *dict, vbus_item_fn fn,
                void *user)
{
	DBusMessageIter e, value;
	const char *text = NULL;
	bool have = false;

	if (dbus_message_iter_get_arg_type(dict) != DBUS_TYPE_DICT_ENTRY)
		return;
	do {
		const char *key;

		dbus_message_iter_recurse(dict, &e);
		if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING)
			continue;
		dbus_message_iter_get_basic(&e, &key);
		dbus_message_iter_next(&e);
		if (strcmp(key, "Value") == 0) {
			value = e;
			have = true;
		} else if (strcmp(key, "Text") == 0) {
			text = vbus_variant_string(&e);
		}
	} while (dbus_message_iter_next(dict));
	if (have)
		fn(user, path, &value, text);
}

void
vbus_each_item(DBusMessageIter *it, vbus_item_fn fn, void *user)
{
	DBusMessageIter arr, e, dict;

	if (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_ARRAY)
		return;
	dbus_message_iter_recurse(it, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
		const char *path;

		dbus_message_iter_recurse(&arr, &e);
		if (dbus_message_iter_get_arg_type(&e) == DBUS_TYPE_STRING) {
			dbus_message_iter_get_basic(&e, &path);
			dbus_message_iter_next(&e);
			if (dbus_message_iter_get_arg_type(&e) ==
			    DBUS_TYPE_ARRAY) {
				dbus_message_iter_recurse(&e, &dict);
				vbus_value_text(path, &dict, fn, user);
			}
		}
		dbus_message_iter_next(&arr);
	}
}

/* GetText of one path (malloc'd), or NULL. */
static char *
get_text(const struct vbus_client *c, const char *service, const char *path)
{
	DBusMessage *r;
	const char *s;
	char err[256], *copy = NULL;

	r = vbus_call(c, service, path, VBUS_IFACE, "GetText", NULL, err,
	              sizeof(err));
	if (r == NULL)
		return NULL;
	s = reply_string(r);
	if (s != NULL)
		copy = strdup(s);
	dbus_message_unref(r);
	return copy;
}

/* The value at it, with its text from GetText when asked for. */
static void
item_with_text(const struct vbus_client *c, const char *service,
               const char *path, DBusMessageIter *value, bool text,
               vbus_item_fn fn, void *user)
{
	char *t = text ? get_text(c, service, path) : NULL;

	fn(user, path, value, t);
	free(t);
}

/* GetValue on "/": a{sv} keyed without the leading slash. */
static bool
read_root_value(const struct vbus_client *c, const char *service, bool text,
                vbus_item_fn fn, void *user)
{
	DBusMessageIter it, var, arr, e;
	DBusMessage *r;
	char err[256];

	r = vbus_call(c, service, "/", VBUS_IFACE, "GetValue", NULL, err,
	              sizeof(err));
	if (r == NULL)
		return false;
	if (!dbus_message_iter_init(r, &it) ||
	    dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_VARIANT) {
		dbus_message_unref(r);
		return false;
	}
	dbus_message_iter_recurse(&it, &var);
	if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_ARRAY) {
		dbus_message_unref(r);
		return false;
	}
	dbus_message_iter_recurse(&var, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
		const char *key;
		char path[512];

		dbus_message_iter_recurse(&arr, &e);
		if (dbus_message_iter_get_arg_type(&e) == DBUS_TYPE_STRING) {
			dbus_message_iter_get_basic(&e, &key);
			dbus_message_iter_next(&e);
			snprintf(path, sizeof(path), "/%s", key);
			item_with_text(c, service, path, &e, text, fn, user);
		}
		dbus_message_iter_next(&arr);
	}
	dbus_message_unref(r);
	return true;
}

/* The value of one leaf by GetValue. */
static void
read_leaf(const struct vbus_client *c, const char *service, const char *path,
          bool text, vbus_item_fn fn, void *user)
{
	DBusMessageIter it;
	DBusMessage *r;
	char err[256];

	r = vbus_call(c, service, path, VBUS_IFACE, "GetValue", NULL, err,
	              sizeof(err));
	if (r == NULL)
		return;
	if (dbus_message_iter_init(r, &it))
		item_with_text(c, service, path, &it, text, fn, user);
	dbus_message_unref(r);
}

/* The introspection tree below path, GetValue on every leaf. */
static bool
read_tree(const struct vbus_client *c, const char *service, const char *path,
          int depth, bool text, vbus_item_fn fn, void *user)
{
	DBusMessage *r;
	const char *xml, *p;
	char err[256];
	bool children = false;

	r = vbus_call(c, service, path, DBUS_INTERFACE_INTROSPECTABLE,
	              "Introspect", NULL, err, sizeof(err));
	if (r == NULL)
		return false;
	xml = reply_string(r);
	for (p = xml ? strstr(xml, "<node name=\"") : NULL;
	     p != NULL && depth < WALK_DEPTH;
	     p = strstr(p + 1, "<node name=\"")) {
		char child[512];
		size_t n = strcspn(p + 12, "\"");

		if (n == 0 || p[12] == '/') /* the node itself, named */
			continue;
		snprintf(child, sizeof(child), "%s/%.*s",
		         strcmp(path, "/") == 0 ? "" : path, (int)n, p + 12);
		if (!dbus_validate_path(child, NULL))
			continue;
		children = true;
		read_tree(c, service, child, depth + 1, text, fn, user);
	}
	dbus_message_unref(r);
	if (!children && strcmp(path, "/") != 0)
		read_leaf(c, service, path, text, fn, user);
	return true;
}

enum vbus_read
vbus_read_service(const struct vbus_client *c, const char *service, bool text,
                  vbus_item_fn fn, void *user)
{
	DBusMessage *r;
	DBusMessageIter it;
	char err[256];

	r = vbus_call(c, service, "/", VBUS_IFACE, "GetItems", NULL, err,
	              sizeof(err));
	if (r != NULL) {
		if (dbus_message_iter_init(r, &it))
			vbus_each_item(&it, fn, user);
		dbus_message_unref(r);
		return VBUS_READ_ITEMS;
	}
	if (read_root_value(c, service, text, fn, user))
		return VBUS_READ_ROOT;
	return read_tree(c, service, "/", 0, text, fn, user) ? VBUS_READ_WALK
	                                                     : VBUS_READ_NONE;
}

int
vbus_get_value(const struct vbus_client *c, const char *service,
               const char *path, bool text, vbus_item_fn fn, void *user,
               char *err, size_t errlen)
{
	DBusMessage *r;
	DBusMessageIter it;

	r = vbus_call(c, service, path, VBUS_IFACE, "GetValue", NULL, err,
	              errlen);
	if (r == NULL)
		return -1;
	if (dbus_message_iter_init(r, &it))
		item_with_text(c, service, path, &it, text, fn, user);
	dbus_message_unref(r);
	return 0;
}

/* ---- health ---------------------------------------------------------------
 */

const char *
vbus_health_name(enum vbus_health h)
{
	static const char *const names[] = {"ok",     "stale",      "invalid",
	                                    "absent", "no_service", "no_bus"};

	return (size_t)h < sizeof(names) / sizeof(names[0]) ? names[h] : "?";
}

int
vbus_health_exit(const enum vbus_health *h, size_t n)
{
	enum vbus_health worst = VBUS_HEALTH_OK;
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i] > worst)
			worst = h[i];
	switch (worst) {
	case VBUS_HEALTH_OK:
		return CLI_EXIT_OK;
	case VBUS_HEALTH_STALE:
		return CLI_EXIT_STALE;
	case VBUS_HEALTH_INVALID:
	case VBUS_HEALTH_ABSENT:
		return CLI_EXIT_BAD_PATH;
	case VBUS_HEALTH_NO_SERVICE:
		return CLI_EXIT_NO_SERVICE;
	default:
		return CLI_EXIT_FAILURE;
	}
}

/* What a failed GetValue says of the path: the service gone, the bus
 * gone, or the path not there (no object, no such method on it, an
 * error of the peer's own, or no answer in time). */
static enum vbus_health
call_health(const DBusError *e)
{
	if (dbus_error_has_name(e, DBUS_ERROR_SERVICE_UNKNOWN) ||
	    dbus_error_has_name(e, DBUS_ERROR_NAME_HAS_NO_OWNER))
		return VBUS_HEALTH_NO_SERVICE;
	if (dbus_error_has_name(e, DBUS_ERROR_DISCONNECTED) ||
	    dbus_error_has_name(e, DBUS_ERROR_NO_SERVER))
		return VBUS_HEALTH_NO_BUS;
	return VBUS_HEALTH_ABSENT;
}

/* A variant holding an empty array. */
static bool
is_invalid(DBusMessageIter *it)
{
	DBusMessageIter var = *it, sub;

	if (dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_VARIANT)
		dbus_message_iter_recurse(it, &var);
	if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_ARRAY)
		return false;
	dbus_message_iter_recurse(&var, &sub);
	return dbus_message_iter_get_arg_type(&sub) == DBUS_TYPE_INVALID;
}

enum vbus_health
vbus_get_health(const struct vbus_client *c, const char *service,
                const char *path, bool text, vbus_item_fn fn, void *user,
                char *err, size_t errlen)
{
	DBusMessage *msg, *r;
	DBusMessageIter it;
	DBusError e;
	enum vbus_health h;

	if (!dbus_connection_get_is_connected(c->conn)) {
		snprintf(err, errlen, "not connected to the bus");
		return VBUS_HEALTH_NO_BUS;
	}
	msg =
	    new_call(service, path, VBUS_IFACE, "GetValue", NULL, err, errlen);
	if (msg == NULL)
		return VBUS_HEALTH_ABSENT;
	dbus_error_init(&e);
	r = dbus_connection_send_with_reply_and_block(c->conn, msg,
	                                              c->timeout_ms, &e);
	dbus_message_unref(msg);
	if (r == NULL) {
		h = call_health(&e);
		if (dbus_error_has_name(&e, DBUS_ERROR_UNKNOWN_OBJECT) ||
		    dbus_error_has_name(&e, DBUS_ERROR_UNKNOWN_METHOD)) {
			snprintf(err, errlen, "no such path");
			dbus_error_free(&e);
		} else {
			set_err(err, errlen, "GetValue", &e);
		}
		return h;
	}
	h = VBUS_HEALTH_ABSENT;
	snprintf(err, errlen, "GetValue answered no value");
	if (dbus_message_iter_init(r, &it)) {
		h = is_invalid(&it) ? VBUS_HEALTH_INVALID : VBUS_HEALTH_OK;
		item_with_text(c, service, path, &it, text, fn, user);
	}
	dbus_message_unref(r);
	return h;
}

/* ---- SetValue ----------------------------------------------------------- */

/* The int32 a SetValue answered, or -1 (and false) when it is no int. */
static bool
set_result(DBusMessage *reply, int *result)
{
	DBusMessageIter it;
	dbus_int32_t rc;

	*result = -1;
	if (!dbus_message_iter_init(reply, &it) ||
	    dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_INT32)
		return false;
	dbus_message_iter_get_basic(&it, &rc);
	*result = rc;
	return true;
}

int
vbus_set_value(const struct vbus_client *c, const char *service,
               const char *path, const struct vbus_value *v, int *result,
               char *err, size_t errlen)
{
	DBusMessage *r;

	r = vbus_call(c, service, path, VBUS_IFACE, "SetValue", v, err, errlen);
	if (r == NULL)
		return -1;
	if (!set_result(r, result))
		snprintf(err, errlen, "SetValue answered no integer");
	dbus_message_unref(r);
	return 0;
}

struct pending_set {
	vbus_done_fn done;
	void *user;
	void (*free_user)(void *user);
};

static void
pending_set_done(DBusPendingCall *pending, void *data)
{
	struct pending_set *ps = data;
	DBusMessage *reply = dbus_pending_call_steal_reply(pending);
	int result = -1;
	DBusError e;

	dbus_error_init(&e);
	if (reply == NULL)
		ps->done(ps->user, -1, "no reply");
	else if (dbus_set_error_from_message(&e, reply))
		ps->done(ps->user, -1, e.message ? e.message : e.name);
	else if (!set_result(reply, &result))
		ps->done(ps->user, -1, "SetValue answered no integer");
	else
		ps->done(ps->user, result, NULL);
	dbus_error_free(&e);
	if (reply != NULL)
		dbus_message_unref(reply);
}

static void
pending_set_free(void *data)
{
	struct pending_set *ps = data;

	if (ps->free_user != NULL)
		ps->free_user(ps->user);
	free(ps);
}

int
vbus_set_value_async(const struct vbus_client *c, const char *service,
                     const char *path, const struct vbus_value *v,
                     vbus_done_fn done, void *user,
                     void (*free_user)(void *user))
{
	struct pending_set *ps = malloc(sizeof(*ps));
	DBusPendingCall *pending = NULL;
	DBusMessage *msg;
	char err[256];

	if (ps == NULL)
		goto fail;
	*ps = (struct pending_set){done, user, free_user};
	msg = new_call(service, path, VBUS_IFACE, "SetValue", v, err,
	               sizeof(err));
	if (msg == NULL)
		goto fail;
	if (!dbus_connection_send_with_reply(c->conn, msg, &pending,
	                                     c->timeout_ms) ||
	    pending == NULL) {
		dbus_message_unref(msg);
		goto fail;
	}
	dbus_message_unref(msg);
	if (!dbus_pending_call_set_notify(pending, pending_set_done, ps,
	                                  pending_set_free)) {
		dbus_pending_call_cancel(pending);
		dbus_pending_call_unref(pending);
		goto fail;
	}
	/* the connection keeps its own reference until the reply */
	dbus_pending_call_unref(pending);
	return 0;
fail:
	free(ps);
	if (free_user != NULL)
		free_user(user);
	return -1;
}

/* ---- watching services -------------------------------------------------- */

static bool
is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool
followed(const struct vbus_watch *w, const char *name)
{
	return name[0] != ':' && fnmatch(w->service, name, 0) == 0;
}

static struct vbus_watched *
watched(struct vbus_watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->svc[i].name, name) == 0)
			return &w->svc[i];
	return NULL;
}

const char *
vbus_watch_owner(const struct vbus_watch *w, const char *service)
{
	const struct vbus_watched *s = watched((struct vbus_watch *)w, service);

	return s != NULL ? s->owner : NULL;
}

/* ---- what each service sent last ------------------------------------- */

struct vbus_seen {
	uint64_t path, value; /* FNV-1a hashes; path 0: a free slot */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A value's hash: its types and bytes, containers to D-Bus's depth. */
static uint64_t
hash_value(DBusMessageIter *it, uint64_t h)
{
	int t;

	while ((t = dbus_message_iter_get_arg_type(it)) != DBUS_TYPE_INVALID) {
		h = fnv(h, &t, sizeof(t));
		if (dbus_type_is_container(t)) {
			DBusMessageIter sub;

			dbus_message_iter_recurse(it, &sub);
			h = fnv(hash_value(&sub, h), "]", 1);
		} else if (t == DBUS_TYPE_STRING ||
		           t == DBUS_TYPE_OBJECT_PATH ||
		           t == DBUS_TYPE_SIGNATURE) {
			const char *str;

			dbus_message_iter_get_basic(it, &str);
			h = fnv(h, str, strlen(str) + 1);
		} else if (t != DBUS_TYPE_UNIX_FD) { /* reading one dups it */
			DBusBasicValue v;

			memset(&v, 0, sizeof(v));
			dbus_message_iter_get_basic(it, &v);
			h = fnv(h, &v, sizeof(v));
		}
		if (!dbus_message_iter_next(it))
			break;
	}
	return h;
}

/* The slot of a path's hash: its own, or the free one it would take. */
static struct vbus_seen *
seen_slot(const struct vbus_watched *s, uint64_t path)
{
	size_t i = (size_t)path & (s->cap - 1);

	while (s->seen[i].path != 0 && s->seen[i].path != path)
		i = (i + 1) & (s->cap - 1);
	return &s->seen[i];
}

/* Room for one more path, kept under half full; false when there is
 * none (VBUS_SEEN_MAX, or no memory). */
static bool
seen_room(struct vbus_watched *s)
{
	struct vbus_seen *old = s->seen;
	size_t i, cap = s->cap ? 2 * s->cap : 64;

	if (2 * (s->nseen + 1) <= s->cap)
		return true;
	if (s->nseen >= VBUS_SEEN_MAX ||
	    (s->seen = calloc(cap, sizeof(*s->seen))) == NULL) {
		s->seen = old;
		return false;
	}
	s->cap = cap;
	for (i = 0; i < cap / 2 && old != NULL; i++)
		if (old[i].path != 0)
			*seen_slot(s, old[i].path) = old[i];
	free(old);
	return true;
}

/* Whether value is news for path: not the last value it sent. */
static bool
seen_changed(struct vbus_watched *s, const char *path, DBusMessageIter *value)
{
	DBusMessageIter copy = *value;
	uint64_t hp = fnv(0xcbf29ce484222325ULL, path, strlen(path)) | 1,
	         hv = hash_value(&copy, 0xcbf29ce484222325ULL);
	struct vbus_seen *e;

	if (s->cap > 0 && (e = seen_slot(s, hp))->path == hp) {
		if (e->value == hv)
			return false;
		e->value = hv;
		return true;
	}
	if (seen_room(s)) {
		*seen_slot(s, hp) = (struct vbus_seen){hp, hv};
		s->nseen++;
	}
	return true;
}

static void
seen_clear(struct vbus_watched *s)
{
	free(s->seen);
	s->seen = NULL;
	s->nseen = s->cap = 0;
}

/* What the item callback needs: the watch and the service. */
struct reading {
	struct vbus_watch *w;
	struct vbus_watched *s;
};

static void
read_one(void *user, const char *path, DBusMessageIter *value, const char *text)
{
	const struct reading *r = user;

	if (seen_changed(r->s, path, value))
		r->w->ops.changed(r->w->user, r->s->name, path, value, text);
}

static void
appeared(struct vbus_watch *w, const char *name, const char *owner,
         bool initial)
{
	struct vbus_watched *s = watched(w, name);
	struct reading r;

	if (s == NULL) {
		if (w->n == VBUS_WATCH_MAX)
			return;
		s = &w->svc[w->n++];
		*s = (struct vbus_watched){.name = strdup(name)};
	}
	free(s->owner);
	s->owner = strdup(owner);
	seen_clear(s); /* another process: its values are news */
	if (w->ops.appeared != NULL)
		w->ops.appeared(w->user, name, owner, initial);
	r = (struct reading){w, s};
	if (w->read_values)
		(void)vbus_read_service(w->bus, name, w->text, read_one, &r);
}

static void
vanished(struct vbus_watch *w, const char *name, const char *old_owner)
{
	struct vbus_watched *s = watched(w, name);

	if (s == NULL)
		return;
	if (w->ops.vanished != NULL)
		w->ops.vanished(w->user, name, old_owner);
	free(s->name);
	free(s->owner);
	seen_clear(s);
	*s = w->svc[--w->n];
}

static void
owner_changed(struct vbus_watch *w, DBusMessage *msg)
{
	const char *name, *old, *new;

	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name,
	                           DBUS_TYPE_STRING, &old, DBUS_TYPE_STRING,
	                           &new, DBUS_TYPE_INVALID) ||
	    !followed(w, name))
		return;
	if (old[0] != '\0')
		vanished(w, name, old);
	if (new[0] != '\0')
		appeared(w, name, new, false);
}

/* A BusItem signal of every followed service its sender owns. */
static void
values_changed(struct vbus_watch *w, DBusMessage *msg, const char *sender)
{
	bool items = dbus_message_is_signal(msg, VBUS_IFACE, "ItemsChanged");
	DBusMessageIter it, dict;
	size_t i;

	for (i = 0; i < w->n; i++) {
		struct vbus_watched *s = &w->svc[i];
		struct reading r = {w, s};

		if (s->owner == NULL || strcmp(s->owner, sender) != 0 ||
		    !dbus_message_iter_init(msg, &it))
			continue;
		if (items) {
			vbus_each_item(&it, read_one, &r);
		} else if (dbus_message_iter_get_arg_type(&it) ==
		           DBUS_TYPE_ARRAY) {
			dbus_message_iter_recurse(&it, &dict);
			vbus_value_text(dbus_message_get_path(msg), &dict,
			                read_one, &r);
		}
	}
}

static DBusHandlerResult
watch_filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct vbus_watch *w = data;
	const char *sender = dbus_message_get_sender(msg);

	(void)conn;
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS,
	                           "NameOwnerChanged")) {
		owner_changed(w, msg);
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (sender == NULL ||
	    (!dbus_message_is_signal(msg, VBUS_IFACE, "ItemsChanged") &&
	     !dbus_message_is_signal(msg, VBUS_IFACE, "PropertiesChanged")))
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	values_changed(w, msg, sender);
	return DBUS_HANDLER_RESULT_HANDLED;
}

int
vbus_watch_start(struct vbus_watch *w, char *err, size_t errlen)
{
	/* one name: only its signals reach us (sender= and arg0= match) */
	bool one = !is_glob(w->service);
	const char *ns = w->path_namespace;
	char rule[3][512];
	size_t i;

	snprintf(rule[0], sizeof(rule[0]),
	         "type='signal',sender='" DBUS_SERVICE_DBUS
	         "',interface='" DBUS_INTERFACE_DBUS
	         "',member='NameOwnerChanged'%s%s%s",
	         one ? ",arg0='" : "", one ? w->service : "", one ? "'" : "");
	for (i = 1; i < 3; i++)
		snprintf(rule[i], sizeof(rule[i]),
		         "type='signal'%s%s%s,interface='" VBUS_IFACE
		         "',member='%s'%s%s%s",
		         one ? ",sender='" : "", one ? w->service : "",
		         one ? "'" : "",
		         i == 1 ? "PropertiesChanged" : "ItemsChanged",
		         ns == NULL ? ""
		         : i == 1   ? ",path_namespace='"
		                    : ",path='/",
		         ns != NULL && i == 1 ? ns : "", ns != NULL ? "'" : "");
	for (i = 0; i < 3; i++)
		if (vbus_add_match(w->bus, rule[i], err, errlen) < 0)
			return -1;
	if (!dbus_connection_add_filter(w->bus->conn, watch_filter, w, NULL)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->filtering = true;
	return 0;
}

static void
listed(const char *name, void *user)
{
	struct vbus_watch *w = user;
	char *owner;

	if (!followed(w, name))
		return;
	owner = vbus_name_owner(w->bus, name);
	if (owner != NULL)
		appeared(w, name, owner, true);
	free(owner);
}

int
vbus_watch_list(struct vbus_watch *w, char *err, size_t errlen)
{
	return vbus_list_names(w->bus, listed, w, err, errlen);
}

void
vbus_watch_free(struct vbus_watch *w)
{
	size_t i;

	if (w->filtering)
		dbus_connection_remove_filter(w->bus->conn, watch_filter, w);
	w->filtering = false;
	for (i = 0; i < w->n; i++) {
		free(w->svc[i].name);
		free(w->svc[i].owner);
		seen_clear(&w->svc[i]);
	}
	w->n = 0;
}

/* ---- com.victronenergy.settings ---------------------------------------- */

const char *
vbus_setting_error_name(int code)
{
	switch (code) {
	case 0:
		return "NoError";
	case VBUS_SETTING_UNDERSCORE:
		return "UnderscorePrefix";
	case VBUS_SETTING_UNKNOWN_TYPE:
		return "UnknownType";
	case VBUS_SETTING_INVALID_PATH:
		return "InvalidPath";
	case VBUS_SETTING_TYPE_DIFFERS:
		return "TypeDiffer";
	case VBUS_SETTING_INVALID_DEFAULT:
		return "InvalidDefault";
	case VBUS_SETTING_OUT_OF_RANGE:
		return "DefaultOutOfRange";
	case VBUS_SETTING_IS_GROUP:
		return "IsGroup";
	case VBUS_SETTING_NOT_IN_SETTINGS:
		return "NotInSettings";
	case VBUS_SETTING_NO_ANSWER:
		return "no answer for it";
	default:
		return "unknown error";
	}
}

static void
append_entry(DBusMessageIter *dict, const char *key, const struct vbus_value *v)
{
	DBusMessageIter e;

	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
	vbus_append_variant(&e, v);
	dbus_message_iter_close_container(dict, &e);
}

/* min and max in the setting's own type, as velib sends them. */
static struct vbus_value
limit_value(const struct vbus_setting *s, double x)
{
	return s->def.kind == VBUS_DOUBLE ? vbus_double(x)
	                                  : vbus_int((int64_t)x);
}

static void
append_setting(DBusMessageIter *arr, const struct vbus_setting *s)
{
	DBusMessageIter dict;
	struct vbus_value v;

	dbus_message_iter_open_container(arr, DBUS_TYPE_ARRAY, "{sv}", &dict);
	v = vbus_string(s->path);
	append_entry(&dict, "path", &v);
	append_entry(&dict, "default", &s->def);
	if (s->limits && s->def.kind != VBUS_STRING) {
		v = limit_value(s, s->min);
		append_entry(&dict, "min", &v);
		v = limit_value(s, s->max);
		append_entry(&dict, "max", &v);
	}
	dbus_message_iter_close_container(arr, &dict);
}

/* One dict of the reply, the answer for entry s (localsettings answers
 * one dict per entry, in order, with the path as sent). */
static void
read_answer(DBusMessageIter *dict, struct vbus_setting *s)
{
	DBusMessageIter e, value;
	const char *path = NULL;
	struct vbus_value v;
	bool have_value = false;
	int error = VBUS_SETTING_NO_ANSWER;

	for (; dbus_message_iter_get_arg_type(dict) == DBUS_TYPE_DICT_ENTRY;
	     dbus_message_iter_next(dict)) {
		const char *key;
		struct vbus_value x;

		dbus_message_iter_recurse(dict, &e);
		if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING)
			continue;
		dbus_message_iter_get_basic(&e, &key);
		dbus_message_iter_next(&e);
		if (strcmp(key, "path") == 0)
			path = vbus_variant_string(&e);
		else if (strcmp(key, "error") == 0 &&
		         vbus_value_from_iter(&e, &x) && x.kind == VBUS_INT)
			error = (int)x.i;
		else if (strcmp(key, "value") == 0) {
			value = e;
			have_value = true;
		}
	}
	if (path != NULL && strcmp(path, s->path) != 0)
		return; /* not the answer to this entry */
	s->error = error;
	if (have_value && vbus_value_from_iter(&value, &v))
		vbus_value_copy(&s->value, &v);
}

int
vbus_settings_add(const struct vbus_client *c, struct vbus_setting *s, size_t n,
                  char *err, size_t errlen)
{
	DBusMessage *msg, *reply;
	DBusMessageIter it, arr, dict;
	size_t i;

	for (i = 0; i < n; i++) {
		s[i].error = VBUS_SETTING_NO_ANSWER;
		s[i].value = vbus_invalid();
	}
	msg = new_call(VBUS_SETTINGS, "/", "com.victronenergy.Settings",
	               "AddSettings", NULL, err, errlen);
	if (msg == NULL)
		return -1;
	dbus_message_iter_init_append(msg, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "a{sv}", &arr);
	for (i = 0; i < n; i++)
		append_setting(&arr, &s[i]);
	dbus_message_iter_close_container(&it, &arr);
	reply = send_blocking(c, msg, err, errlen);
	if (reply == NULL)
		return -1;
	if (!dbus_message_iter_init(reply, &it) ||
	    dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY) {
		snprintf(err, errlen, "AddSettings: the reply is no array");
		dbus_message_unref(reply);
		return -1;
	}
	dbus_message_iter_recurse(&it, &arr);
	for (i = 0;
	     i < n && dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY;
	     i++, dbus_message_iter_next(&arr)) {
		dbus_message_iter_recurse(&arr, &dict);
		read_answer(&dict, &s[i]);
	}
	dbus_message_unref(reply);
	return 0;
}
