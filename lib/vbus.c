#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vbus.h"

DBusConnection *
vbus_connect(const char *which, const char *address, char *err, size_t errlen)
{
	DBusConnection *conn;
	DBusError e;

	dbus_error_init(&e);
	if (address != NULL) {
		conn = dbus_connection_open_private(address, &e);
		if (conn != NULL && !dbus_bus_register(conn, &e)) {
			dbus_connection_close(conn);
			dbus_connection_unref(conn);
			conn = NULL;
		}
	} else {
		bool session = which != NULL
		                   ? strcmp(which, "session") == 0
		                   : getenv("DBUS_SESSION_BUS_ADDRESS") != NULL;

		conn = dbus_bus_get_private(
		    session ? DBUS_BUS_SESSION : DBUS_BUS_SYSTEM, &e);
	}
	if (conn == NULL) {
		snprintf(err, errlen, "cannot connect to the bus: %s",
		         e.message ? e.message : "unknown error");
		dbus_error_free(&e);
		return NULL;
	}
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	return conn;
}

void
vbus_disconnect(DBusConnection *conn)
{
	if (conn == NULL)
		return;
	dbus_connection_close(conn);
	dbus_connection_unref(conn);
}

void
vbus_shutdown(void)
{
	dbus_shutdown();
}

int
vbus_fd(DBusConnection *conn)
{
	int fd = -1;

	return dbus_connection_get_unix_fd(conn, &fd) ? fd : -1;
}

bool
vbus_connected(DBusConnection *conn)
{
	return dbus_connection_get_is_connected(conn);
}

bool
vbus_serve(DBusConnection *conn, const volatile sig_atomic_t *stop)
{
	dbus_connection_flush(conn);
	vbus_dispatch(conn, stop);
	return dbus_connection_get_is_connected(conn);
}

int
vbus_check_name(const char *name, char *err, size_t errlen)
{
	DBusError e;

	dbus_error_init(&e);
	if (name != NULL && name[0] != ':' && dbus_validate_bus_name(name, &e))
		return 0;
	snprintf(err, errlen, "'%s' is not a valid D-Bus name%s%s",
	         name ? name : "", e.message ? ": " : "",
	         e.message ? e.message : "");
	dbus_error_free(&e);
	return -1;
}

int
vbus_check_path(const char *path, char *err, size_t errlen)
{
	DBusError e;

	dbus_error_init(&e);
	if (path != NULL && dbus_validate_path(path, &e))
		return 0;
	snprintf(err, errlen, "'%s' is not a valid D-Bus object path%s%s",
	         path ? path : "", e.message ? ": " : "",
	         e.message ? e.message : "");
	dbus_error_free(&e);
	return -1;
}

struct vbus_value
vbus_double(double d)
{
	struct vbus_value v = {VBUS_DOUBLE, d, 0, NULL};

	return v;
}

struct vbus_value
vbus_int(int64_t i)
{
	struct vbus_value v = {VBUS_INT, 0, i, NULL};

	return v;
}

struct vbus_value
vbus_string(const char *s)
{
	struct vbus_value v = {VBUS_STRING, 0, 0, (char *)s};

	return v;
}

struct vbus_value
vbus_invalid(void)
{
	struct vbus_value v = {VBUS_INVALID, 0, 0, NULL};

	return v;
}

bool
vbus_equal(const struct vbus_value *a, const struct vbus_value *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case VBUS_DOUBLE:
		return a->d == b->d;
	case VBUS_INT:
		return a->i == b->i;
	case VBUS_STRING:
		return strcmp(a->s, b->s) == 0;
	default:
		return true;
	}
}

void
vbus_value_copy(struct vbus_value *dst, const struct vbus_value *src)
{
	char *s = src->kind == VBUS_STRING ? strdup(src->s) : NULL;

	if (dst->kind == VBUS_STRING)
		free(dst->s);
	*dst = *src;
	dst->s = s;
	if (src->kind == VBUS_STRING && s == NULL)
		dst->kind = VBUS_INVALID;
}

void
vbus_value_clear(struct vbus_value *v)
{
	if (v->kind == VBUS_STRING)
		free(v->s);
	*v = vbus_invalid();
}

bool
vbus_value_from_iter(DBusMessageIter *it, struct vbus_value *v)
{
	DBusMessageIter sub;
	DBusBasicValue b;
	int type = dbus_message_iter_get_arg_type(it);

	if (type == DBUS_TYPE_VARIANT) {
		dbus_message_iter_recurse(it, &sub);
		return vbus_value_from_iter(&sub, v);
	}
	if (type == DBUS_TYPE_ARRAY) { /* Venus's invalid: an empty array */
		dbus_message_iter_recurse(it, &sub);
		*v = vbus_invalid();
		return dbus_message_iter_get_arg_type(&sub) ==
		       DBUS_TYPE_INVALID;
	}
	if (!dbus_type_is_basic(type) || type == DBUS_TYPE_UNIX_FD)
		return false;
	dbus_message_iter_get_basic(it, &b);
	switch (type) {
	case DBUS_TYPE_STRING:
		*v = vbus_string(b.str);
		return true;
	case DBUS_TYPE_DOUBLE:
		*v = vbus_double(b.dbl);
		return true;
	case DBUS_TYPE_BYTE:
		*v = vbus_int(b.byt);
		return true;
	case DBUS_TYPE_INT16:
		*v = vbus_int(b.i16);
		return true;
	case DBUS_TYPE_UINT16:
		*v = vbus_int(b.u16);
		return true;
	case DBUS_TYPE_INT32:
		*v = vbus_int(b.i32);
		return true;
	case DBUS_TYPE_UINT32:
		*v = vbus_int(b.u32);
		return true;
	case DBUS_TYPE_INT64:
		*v = vbus_int(b.i64);
		return true;
	case DBUS_TYPE_UINT64:
		if (b.u64 > INT64_MAX)
			return false;
		*v = vbus_int((int64_t)b.u64);
		return true;
	default: /* booleans, object paths, signatures */
		return false;
	}
}

int
vbus_value_from_json(json_t *j, struct vbus_value *v)
{
	if (json_is_null(j))
		*v = vbus_invalid();
	else if (json_is_integer(j))
		*v = vbus_int(json_integer_value(j));
	else if (json_is_real(j))
		*v = vbus_double(json_real_value(j));
	else if (json_is_string(j))
		*v = vbus_string(json_string_value(j));
	else
		return -1;
	return 0;
}

void
vbus_text(const struct vbus_item *item, char *buf, size_t len)
{
	const struct vbus_value *v = &item->value;
	char num[32];

	switch (v->kind) {
	case VBUS_INVALID:
		snprintf(buf, len, "---");
		return;
	case VBUS_STRING:
		snprintf(buf, len, "%s", v->s);
		return;
	case VBUS_INT:
		snprintf(num, sizeof(num), "%lld", (long long)v->i);
		break;
	default:
		jsonl_format_double(num, v->d);
	}
	snprintf(buf, len, "%s%s", num, item->unit ? item->unit : "");
}

void
vbus_append_variant(DBusMessageIter *it, const struct vbus_value *v)
{
	DBusMessageIter var, arr;
	dbus_int32_t i32;
	dbus_int64_t i64;
	const char *s;

	switch (v->kind) {
	case VBUS_DOUBLE:
		dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, "d",
		                                 &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_DOUBLE, &v->d);
		break;
	case VBUS_INT:
		if (v->i >= INT32_MIN && v->i <= INT32_MAX) {
			i32 = (dbus_int32_t)v->i;
			dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT,
			                                 "i", &var);
			dbus_message_iter_append_basic(&var, DBUS_TYPE_INT32,
			                               &i32);
		} else {
			i64 = (dbus_int64_t)v->i;
			dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT,
			                                 "x", &var);
			dbus_message_iter_append_basic(&var, DBUS_TYPE_INT64,
			                               &i64);
		}
		break;
	case VBUS_STRING:
		s = v->s;
		dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, "s",
		                                 &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &s);
		break;
	default: /* Venus's invalid: an empty array of int32 */
		dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, "ai",
		                                 &var);
		dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "i",
		                                 &arr);
		dbus_message_iter_close_container(&var, &arr);
	}
	dbus_message_iter_close_container(it, &var);
}

/* FNV-1a: paths are short and a peer picks them, so no clever hash. */
uint32_t
vbus_path_hash(const char *path)
{
	uint32_t h = 2166136261u;

	while (*path != '\0')
		h = (h ^ (unsigned char)*path++) * 16777619u;
	return h;
}

/* The index slot of path: its item's, or the empty one it would take. */
static size_t
index_slot(const struct vbus_service *s, const char *path)
{
	size_t mask = s->index_cap - 1, i = vbus_path_hash(path) & mask;

	while (s->index[i] != 0 &&
	       strcmp(s->items[s->index[i] - 1].path, path) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Room in the index for one more item; false when memory ran out. */
static bool
index_reserve(struct vbus_service *s)
{
	size_t cap = s->index_cap ? s->index_cap : 128, i;
	uint32_t *old = s->index;

	if (2 * (s->n + 1) < s->index_cap)
		return true;
	while (2 * (s->n + 1) >= cap)
		cap *= 2;
	if ((s->index = calloc(cap, sizeof(*s->index))) == NULL) {
		s->index = old;
		return false;
	}
	s->index_cap = cap;
	free(old);
	for (i = 0; i < s->n; i++)
		s->index[index_slot(s, s->items[i].path)] = (uint32_t)(i + 1);
	return true;
}

struct vbus_item *
vbus_find(struct vbus_service *s, const char *path)
{
	size_t slot;

	if (s->index_cap == 0)
		return NULL;
	slot = index_slot(s, path);
	return s->index[slot] ? &s->items[s->index[slot] - 1] : NULL;
}

struct vbus_item *
vbus_add(struct vbus_service *s, const char *path, const struct vbus_value *v,
         bool writable, const char *unit)
{
	struct vbus_item *it;

	if (!dbus_validate_path(path, NULL)) /* signals would assert on it */
		return NULL;
	it = vbus_find(s, path);
	if (it != NULL) {
		if (it->unit == NULL && unit != NULL)
			it->unit = strdup(unit);
		return it;
	}
	if (s->n == UINT32_MAX - 1 || !index_reserve(s))
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct vbus_item *a = realloc(s->items, cap * sizeof(*a));

		if (a == NULL)
			return NULL;
		s->items = a;
		s->cap = cap;
	}
	it = &s->items[s->n];
	memset(it, 0, sizeof(*it));
	it->path = strdup(path);
	it->unit = unit ? strdup(unit) : NULL;
	it->writable = writable;
	it->text = v->kind == VBUS_STRING;
	if (it->path == NULL) {
		free(it->unit);
		return NULL;
	}
	vbus_value_copy(&it->value, v);
	s->n++;
	s->index[index_slot(s, path)] = (uint32_t)s->n;
	return it;
}

void
vbus_set(struct vbus_service *s, struct vbus_item *item,
         const struct vbus_value *v)
{
	(void)s;
	if (vbus_equal(&item->value, v))
		return;
	vbus_value_copy(&item->value, v);
	item->changed = true;
}

void
vbus_service_free(struct vbus_service *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->items[i].value.kind == VBUS_STRING)
			free(s->items[i].value.s);
		free(s->items[i].path);
		free(s->items[i].unit);
		free(s->items[i].description);
	}
	free(s->items);
	free(s->index);
	s->items = NULL;
	s->index = NULL;
	s->n = s->cap = s->index_cap = 0;
}

/* ---- the object tree ---------------------------------------------------- */

/* Is item below node ("/" holds everything)?  Sets *rel to the key. */
static bool
below(const char *node, const char *item, const char **rel)
{
	size_t n = strlen(node);

	if (strcmp(node, "/") == 0) {
		*rel = item + 1;
		return true;
	}
	if (strncmp(item, node, n) != 0 || item[n] != '/')
		return false;
	*rel = item + n + 1;
	return true;
}

static void
append_entry_sv(DBusMessageIter *dict, const char *key,
                const struct vbus_value *v)
{
	DBusMessageIter e;

	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
	vbus_append_variant(&e, v);
	dbus_message_iter_close_container(dict, &e);
}

/* {Value, Text} of one item, as in GetItems and the signals. */
static void
append_value_text(DBusMessageIter *it, const struct vbus_item *item)
{
	DBusMessageIter dict;
	char text[256];
	struct vbus_value t;

	vbus_text(item, text, sizeof(text));
	t = vbus_string(text);
	dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{sv}", &dict);
	append_entry_sv(&dict, "Value", &item->value);
	append_entry_sv(&dict, "Text", &t);
	dbus_message_iter_close_container(it, &dict);
}

/* GetValue or GetText on a node: a{sv} of everything below it. */
static bool
append_node(struct vbus_service *s, DBusMessageIter *it, const char *node,
            bool text)
{
	DBusMessageIter dict, var;
	bool any = false;
	size_t i;

	dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, "a{sv}", &var);
	dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "{sv}", &dict);
	for (i = 0; i < s->n; i++) {
		const char *rel;
		char buf[256];
		struct vbus_value t;

		if (!below(node, s->items[i].path, &rel))
			continue;
		any = true;
		if (text) {
			vbus_text(&s->items[i], buf, sizeof(buf));
			t = vbus_string(buf);
			append_entry_sv(&dict, rel, &t);
		} else {
			append_entry_sv(&dict, rel, &s->items[i].value);
		}
	}
	dbus_message_iter_close_container(&var, &dict);
	dbus_message_iter_close_container(it, &var);
	return any;
}

static DBusMessage *
get_items(struct vbus_service *s, DBusMessage *msg)
{
	DBusMessage *reply = dbus_message_new_method_return(msg);
	DBusMessageIter it, dict, e;
	size_t i;

	dbus_message_iter_init_append(reply, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sa{sv}}",
	                                 &dict);
	for (i = 0; i < s->n; i++) {
		const char *path = s->items[i].path;

		dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY,
		                                 NULL, &e);
		dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &path);
		append_value_text(&e, &s->items[i]);
		dbus_message_iter_close_container(&dict, &e);
	}
	dbus_message_iter_close_container(&it, &dict);
	return reply;
}

/*
 * SetValue: enum vbus_set_result; VBUS_SET_LATER when on_set answers
 * later.  Clients that do not
 * introspect (dbus-python) send the bare value instead of a variant.
 */
static int
set_value(struct vbus_service *s, struct vbus_item *item, DBusMessage *msg)
{
	DBusMessageIter it;
	struct vbus_value v;
	int rc;

	if (item == NULL || !item->writable ||
	    !dbus_message_iter_init(msg, &it) ||
	    !vbus_value_from_iter(&it, &v) || v.kind == VBUS_INVALID ||
	    (v.kind == VBUS_STRING) != item->text)
		return VBUS_SET_NOT_WRITABLE;
	if (vbus_equal(&item->value, &v))
		return VBUS_SET_DONE;
	rc = s->on_set ? s->on_set(s, item, &v, msg, s->user) : VBUS_SET_DONE;
	if (rc == VBUS_SET_DONE)
		vbus_set(s, item, &v);
	return rc;
}

void
vbus_answer_set(struct vbus_service *s, DBusMessage *call, int result)
{
	DBusMessage *reply = dbus_message_new_method_return(call);
	dbus_int32_t rc = result;

	if (reply != NULL) {
		dbus_message_append_args(reply, DBUS_TYPE_INT32, &rc,
		                         DBUS_TYPE_INVALID);
		dbus_connection_send(s->conn, reply, NULL);
		dbus_message_unref(reply);
	}
	dbus_message_unref(call);
	vbus_flush(s);
}

DBusMessage *
vbus_set_keep(DBusMessage *call)
{
	return dbus_message_ref(call);
}

void
vbus_set_forget(DBusMessage *call)
{
	dbus_message_unref(call);
}

void
vbus_unpublish(struct vbus_service *s, const char *name)
{
	if (s->conn == NULL)
		return;
	dbus_bus_release_name(s->conn, name, NULL);
	dbus_connection_flush(s->conn);
}

/* Introspection: the BusItem interface and the child nodes of path. */
static DBusMessage *
introspect(struct vbus_service *s, DBusMessage *msg, const char *path)
{
	static const char head[] = DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE
	    "<node>\n <interface name=\"" VBUS_IFACE "\">\n"
	    "  <method name=\"GetValue\"><arg direction=\"out\" "
	    "type=\"v\"/></method>\n"
	    "  <method name=\"GetText\"><arg direction=\"out\" "
	    "type=\"s\"/></method>\n"
	    "  <method name=\"SetValue\"><arg direction=\"in\" "
	    "type=\"v\"/><arg direction=\"out\" type=\"i\"/></method>\n"
	    "  <method name=\"GetDescription\"><arg direction=\"in\" "
	    "type=\"s\"/><arg direction=\"in\" type=\"i\"/><arg "
	    "direction=\"out\" type=\"s\"/></method>\n"
	    "  <signal name=\"PropertiesChanged\"><arg "
	    "type=\"a{sv}\"/></signal>\n"
	    " </interface>\n";
	size_t cap = sizeof(head) + 64, len = 0, i, j;
	char *xml = malloc(cap), *p;
	DBusMessage *reply;
	const char *out;

	if (xml == NULL)
		return NULL;
	len = (size_t)snprintf(xml, cap, "%s", head);
	for (i = 0; i < s->n; i++) {
		const char *rel;
		size_t n;
		bool seen = false;

		if (!below(path, s->items[i].path, &rel))
			continue;
		n = strcspn(rel, "/");
		for (j = 0; j < i && !seen; j++) { /* each child once */
			const char *r2;

			seen = below(path, s->items[j].path, &r2) &&
			       strcspn(r2, "/") == n &&
			       strncmp(r2, rel, n) == 0;
		}
		if (seen)
			continue;
		if (len + n + 32 >= cap) {
			cap = (cap + n + 32) * 2;
			p = realloc(xml, cap);
			if (p == NULL) {
				free(xml);
				return NULL;
			}
			xml = p;
		}
		len +=
		    (size_t)snprintf(xml + len, cap - len,
		                     " <node name=\"%.*s\"/>\n", (int)n, rel);
	}
	snprintf(xml + len, cap - len, "</node>\n");
	reply = dbus_message_new_method_return(msg);
	out = xml;
	dbus_message_append_args(reply, DBUS_TYPE_STRING, &out,
	                         DBUS_TYPE_INVALID);
	free(xml);
	return reply;
}

static DBusMessage *
get_value(struct vbus_service *s, DBusMessage *msg, const char *path, bool text)
{
	struct vbus_item *item = vbus_find(s, path);
	DBusMessage *reply;
	DBusMessageIter it;
	char buf[256];
	const char *t = buf;

	reply = dbus_message_new_method_return(msg);
	dbus_message_iter_init_append(reply, &it);
	if (item != NULL && text) {
		vbus_text(item, buf, sizeof(buf));
		dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &t);
	} else if (item != NULL) {
		vbus_append_variant(&it, &item->value);
	} else if (!append_node(s, &it, path, text)) {
		dbus_message_unref(reply);
		return dbus_message_new_error(msg, DBUS_ERROR_UNKNOWN_OBJECT,
		                              "no such path");
	}
	return reply;
}

static DBusHandlerResult
handle(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct vbus_service *s = data;
	const char *path = dbus_message_get_path(msg),
	           *iface = dbus_message_get_interface(msg),
	           *member = dbus_message_get_member(msg);
	DBusMessage *reply = NULL;

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL ||
	    path == NULL || member == NULL)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (iface != NULL &&
	    strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) == 0 &&
	    strcmp(member, "Introspect") == 0)
		reply = introspect(s, msg, path);
	else if (iface != NULL && strcmp(iface, VBUS_IFACE) != 0)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	else if (strcmp(member, "GetValue") == 0)
		reply = get_value(s, msg, path, false);
	else if (strcmp(member, "GetText") == 0)
		reply = get_value(s, msg, path, true);
	else if (strcmp(member, "GetItems") == 0 && strcmp(path, "/") == 0)
		reply = get_items(s, msg);
	else if (strcmp(member, "SetValue") == 0) {
		int rc = set_value(s, vbus_find(s, path), msg);

		if (rc == VBUS_SET_LATER)
			return DBUS_HANDLER_RESULT_HANDLED;
		vbus_answer_set(s, dbus_message_ref(msg), rc);
		return DBUS_HANDLER_RESULT_HANDLED;
	} else if (strcmp(member, "GetDescription") == 0) {
		struct vbus_item *item = vbus_find(s, path);
		const char *d =
		    item && item->description ? item->description : "";

		reply = dbus_message_new_method_return(msg);
		dbus_message_append_args(reply, DBUS_TYPE_STRING, &d,
		                         DBUS_TYPE_INVALID);
	} else {
		reply = dbus_message_new_error(msg, DBUS_ERROR_UNKNOWN_METHOD,
		                               member);
	}
	if (reply == NULL)
		return DBUS_HANDLER_RESULT_NEED_MEMORY;
	dbus_connection_send(conn, reply, NULL);
	dbus_message_unref(reply);
	return DBUS_HANDLER_RESULT_HANDLED;
}

void
vbus_dispatch(DBusConnection *conn, const volatile sig_atomic_t *stop)
{
	dbus_connection_read_write(conn, 0);
	while ((stop == NULL || !*stop) &&
	       dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS)
		;
}

int
vbus_publish(struct vbus_service *s, const char *name, char *err, size_t errlen)
{
	static const DBusObjectPathVTable vtable = {NULL, handle, NULL,
	                                            NULL, NULL,   NULL};
	DBusError e;
	int rc;

	if (vbus_check_name(name, err, errlen) < 0)
		return -1;
	dbus_error_init(&e);
	/* every path first: one fallback handler serves the whole tree */
	if (!dbus_connection_try_register_fallback(s->conn, "/", &vtable, s,
	                                           &e))
		goto fail;
	rc = dbus_bus_request_name(s->conn, name, DBUS_NAME_FLAG_DO_NOT_QUEUE,
	                           &e);
	if (rc < 0)
		goto fail;
	if (rc != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		snprintf(err, errlen, "the name %s is taken", name);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s", e.message ? e.message : "D-Bus error");
	dbus_error_free(&e);
	return -1;
}

int
vbus_flush(struct vbus_service *s)
{
	DBusMessage *items = NULL;
	DBusMessageIter it, dict, e;
	size_t i;
	bool ok = true;

	if (s->signals & VBUS_SIGNAL_ITEMS) {
		items =
		    dbus_message_new_signal("/", VBUS_IFACE, "ItemsChanged");
		if (items == NULL)
			return -1;
		dbus_message_iter_init_append(items, &it);
		dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY,
		                                 "{sa{sv}}", &dict);
	}
	for (i = 0; i < s->n; i++) {
		struct vbus_item *item = &s->items[i];
		const char *path = item->path;

		if (!item->changed)
			continue;
		item->changed = false;
		if (items != NULL) {
			dbus_message_iter_open_container(
			    &dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
			dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING,
			                               &path);
			append_value_text(&e, item);
			dbus_message_iter_close_container(&dict, &e);
		}
		if (s->signals & VBUS_SIGNAL_PROPERTIES) {
			DBusMessage *sig = dbus_message_new_signal(
			    path, VBUS_IFACE, "PropertiesChanged");

			DBusMessageIter sit;

			if (sig == NULL)
				return -1;
			dbus_message_iter_init_append(sig, &sit);
			append_value_text(&sit, item);
			ok &= dbus_connection_send(s->conn, sig, NULL) != 0;
			dbus_message_unref(sig);
		}
	}
	if (items != NULL) {
		dbus_message_iter_close_container(&it, &dict);
		ok &= dbus_connection_send(s->conn, items, NULL) != 0;
		dbus_message_unref(items);
	}
	return ok ? 0 : -1;
}

/* ---- D-Bus values as JSON ------------------------------------------------ */

static unsigned write_dict(struct jsonl_writer *w, const char *key,
                           DBusMessageIter *arr);

/* The members of an array or struct at it, as a JSON array. */
static unsigned
write_members(struct jsonl_writer *w, const char *key, DBusMessageIter *sub)
{
	unsigned lost = 0;

	jsonl_array_open(w, key);
	if (dbus_message_iter_get_arg_type(sub) != DBUS_TYPE_INVALID)
		do
			lost |= vbus_write_json(w, NULL, sub);
		while (dbus_message_iter_next(sub));
	jsonl_array_close(w);
	return lost;
}

/* Containers: variants, arrays, dictionaries, structs. */
static unsigned
write_container(struct jsonl_writer *w, const char *key, DBusMessageIter *it,
                int type)
{
	DBusMessageIter sub;

	/* a peer may nest deeper than JSON readers go: cut with a marker */
	if (type != DBUS_TYPE_VARIANT && w->depth + 1 >= JSONL_MAX_DEPTH) {
		jsonl_str(w, key, VBUS_JSON_CUT_MARK);
		return VBUS_JSON_CUT;
	}
	dbus_message_iter_recurse(it, &sub);
	switch (type) {
	case DBUS_TYPE_VARIANT:
		return vbus_write_json(w, key, &sub);
	case DBUS_TYPE_ARRAY:
		if (dbus_message_iter_get_arg_type(&sub) == DBUS_TYPE_INVALID) {
			jsonl_null(w, key); /* Venus's invalid */
			return 0;
		}
		if (dbus_message_iter_get_arg_type(&sub) ==
		    DBUS_TYPE_DICT_ENTRY)
			return write_dict(w, key, &sub);
		return write_members(w, key, &sub);
	default: /* a struct */
		return write_members(w, key, &sub);
	}
}

unsigned
vbus_write_json(struct jsonl_writer *w, const char *key, DBusMessageIter *it)
{
	DBusBasicValue b;
	int type = dbus_message_iter_get_arg_type(it);

	if (type == DBUS_TYPE_VARIANT || type == DBUS_TYPE_ARRAY ||
	    type == DBUS_TYPE_STRUCT)
		return write_container(w, key, it, type);
	if (!dbus_type_is_basic(type)) { /* nothing, or a stray entry */
		jsonl_null(w, key);
		return 0;
	}
	dbus_message_iter_get_basic(it, &b);
	switch (type) {
	case DBUS_TYPE_DOUBLE:
		jsonl_double(w, key, b.dbl);
		break;
	case DBUS_TYPE_BOOLEAN:
		jsonl_bool(w, key, b.bool_val);
		break;
	case DBUS_TYPE_BYTE:
		jsonl_int(w, key, b.byt);
		break;
	case DBUS_TYPE_INT16:
		jsonl_int(w, key, b.i16);
		break;
	case DBUS_TYPE_UINT16:
		jsonl_int(w, key, b.u16);
		break;
	case DBUS_TYPE_INT32:
		jsonl_int(w, key, b.i32);
		break;
	case DBUS_TYPE_UINT32:
		jsonl_int(w, key, b.u32);
		break;
	case DBUS_TYPE_INT64:
		jsonl_int(w, key, b.i64);
		break;
	case DBUS_TYPE_UINT64:
		jsonl_uint(w, key, b.u64);
		break;
	case DBUS_TYPE_UNIX_FD:
		/* libdbus hands out a duplicate (-1 when the connection
		 * passes no fds); a descriptor means nothing to a reader */
		if (b.fd >= 0)
			close(b.fd);
		jsonl_null(w, key);
		return VBUS_JSON_FD;
	default: /* strings, object paths, signatures */
		jsonl_str(w, key, b.str);
	}
	return 0;
}

/* A dictionary key of any basic type as text: the JSON form of the value,
 * as jq's tostring would give it.  *lost gets VBUS_JSON_FD for an fd. */
static const char *
key_text(DBusMessageIter *it, char *buf, size_t len, unsigned *lost)
{
	DBusBasicValue b;
	int type = dbus_message_iter_get_arg_type(it);

	if (!dbus_type_is_basic(type))
		return "";
	dbus_message_iter_get_basic(it, &b);
	switch (type) {
	case DBUS_TYPE_STRING:
	case DBUS_TYPE_OBJECT_PATH:
	case DBUS_TYPE_SIGNATURE:
		return b.str;
	case DBUS_TYPE_DOUBLE:
		jsonl_format_double(buf, b.dbl);
		return buf;
	case DBUS_TYPE_BOOLEAN:
		return b.bool_val ? "true" : "false";
	case DBUS_TYPE_BYTE:
		snprintf(buf, len, "%u", (unsigned)b.byt);
		return buf;
	case DBUS_TYPE_INT16:
		snprintf(buf, len, "%d", (int)b.i16);
		return buf;
	case DBUS_TYPE_UINT16:
		snprintf(buf, len, "%u", (unsigned)b.u16);
		return buf;
	case DBUS_TYPE_INT32:
		snprintf(buf, len, "%ld", (long)b.i32);
		return buf;
	case DBUS_TYPE_UINT32:
		snprintf(buf, len, "%lu", (unsigned long)b.u32);
		return buf;
	case DBUS_TYPE_INT64:
		snprintf(buf, len, "%lld", (long long)b.i64);
		return buf;
	case DBUS_TYPE_UINT64:
		snprintf(buf, len, "%llu", (unsigned long long)b.u64);
		return buf;
	default: /* a unix fd: duplicated for us, and meaningless */
		if (b.fd >= 0)
			close(b.fd);
		*lost |= VBUS_JSON_FD;
		return "";
	}
}

static unsigned
write_dict(struct jsonl_writer *w, const char *key, DBusMessageIter *arr)
{
	DBusMessageIter e;
	char kbuf[JSONL_DOUBLE_MAX];
	unsigned lost = 0;

	jsonl_object_open(w, key);
	do {
		const char *k;

		dbus_message_iter_recurse(arr, &e);
		k = key_text(&e, kbuf, sizeof(kbuf), &lost);
		dbus_message_iter_next(&e);
		lost |= vbus_write_json(w, k, &e);
	} while (dbus_message_iter_next(arr));
	jsonl_object_close(w);
	return lost;
}

const char *
vbus_variant_string(DBusMessageIter *it)
{
	DBusMessageIter sub;
	const char *s;

	if (dbus_message_iter_get_arg_type(it) == DBUS_TYPE_VARIANT) {
		dbus_message_iter_recurse(it, &sub);
		it = &sub;
	}
	if (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_STRING)
		return NULL;
	dbus_message_iter_get_basic(it, &s);
	return s;
}
