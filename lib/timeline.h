/*
 * timeline: the memory records of any recorder read into leak streams
 * (lib/leak): gxkit's JSONL (rss-watch, rss-watch --maps, anything with a
 * ts and a numeric field), psrecord, mprof, prmon and CSV logs; one
 * series, or one per group of --by values (lib/fleet), the same way; a
 * life ends at a "restart", "exit" or named event, or where an uptime
 * field (uptime_s, uptime, uptime_ms, age_s) starts again.  The
 * struct owns its streams, groups and maps (timeline_free()).  Malformed
 * lines are reported (lib/msg) and counted, never fatal; a record's time
 * is ts (or --time-field, or timestamp, time, t): seconds, milliseconds
 * or nanoseconds, or an ISO 8601 string; a field may be a dotted path
 * into nested objects (payload.free_heap).  Functions return
 * 0, or -1 with errno: a read error (reported) or ENOMEM.
 */
#ifndef GXKIT_TIMELINE_H
#define GXKIT_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet.h"
#include "leak.h"
#include "memlog.h"
#include "where.h"

/*
 * Samples no memory reading can be, dropped and counted as skipped:
 * a value past any memory counter (an exbibyte in KiB is 1.2e15), and a
 * stamp past the year 33658, which is milliseconds or nanoseconds since
 * 1970, not the seconds every gxkit record carries.
 */
#define TIMELINE_MAX_VALUE 1e18
#define TIMELINE_MAX_TS    1e12

struct timeline;
/* --by --expire: groups due (silent for expire_s of record time), handed
 * over to be judged and dropped (fleet_drop()); n may be 0. */
typedef void (*timeline_due_fn)(void *user, struct timeline *tl,
                                struct fleet_group **g, size_t n);

#define TIMELINE_EVENTS 8  /* --restart-event names */
#define TIMELINE_SEEN   16 /* numeric fields named when the field is not */
#define TIMELINE_UNREAD 16 /* event names counted that nothing reads */

struct timeline_event {
	char name[32];
	uint64_t count;
};

struct timeline_options {
	const char *field;       /* judged; NULL: anon_kb, else rss_kb */
	const char *time_field;  /* NULL: ts, timestamp, time or t */
	const char *alloc_field; /* the process's own allocations, or NULL */
	long pid;                /* only this process's records; 0: all */
	const char *by[FLEET_FIELDS]; /* the groups' fields, nby of them */
	int nby;
	enum memlog_format format; /* of every input; AUTO: each sniffed */
	long child;                /* mprof: a CHLD index, or -1 */
	size_t max_line;           /* longer lines are reported, skipped */
	double expire_s;           /* --by: 0, or when a group is due */
	size_t max_groups;         /* --by: new groups past it skipped */
	/* events after which the field jumping back starts a new life (a
	 * reboot the records show only so) */
	const char *restart_events[TIMELINE_EVENTS];
	int nrestart_events;
	/* --fault-event START=END: markers of periods, as faults */
	const char *fault_events[TIMELINE_EVENTS][2];
	int nfault_events;
	timeline_due_fn due;
	void *user;
};

struct timeline {
	const struct timeline_options *o;
	const char *field; /* the field judged, once a record said */
	bool field_is_anon;
	struct leak_stream st;  /* one series */
	struct fleet fleet;     /* the groups, with --by */
	struct where_set where; /* the maps of st's current segment */
	size_t where_segment;   /* st.total_segments it belongs to */
	uint64_t malformed, skipped, filtered;
	uint64_t records; /* read (JSONL objects, log lines) */
	uint64_t samples; /* of them, samples of the field */
	bool elapsed;     /* the times are seconds since a start (psrecord) */
	uint64_t bad_ts;  /* stamps not a positive, finite time */
	uint64_t untimed; /* records with the field and no time field */
	/* numeric fields seen in records without the one judged (dotted
	 * for nested ones), to name when it never comes */
	char seen[TIMELINE_SEEN][48];
	size_t nseen;
	uint64_t probed;            /* records looked at for them */
	uint64_t over_groups;       /* records of groups past max_groups */
	double newest_ts, swept_ts; /* of the records, for --expire */
	struct timeline_event unread[TIMELINE_UNREAD]; /* warned at the end */
	size_t nunread;
};

int timeline_init(struct timeline *tl, const struct timeline_options *o,
                  double sign, const struct leak_rules *rules);
void timeline_free(struct timeline *tl);
/* Every line of fp (its name for messages) into the streams. */
int timeline_read(struct timeline *tl, FILE *fp, const char *name);
/* After the input: the field judged decided (rss_kb when no record
 * said), what was skipped said, the series' last bucket flushed. */
void timeline_end(struct timeline *tl);
/* Whether records came and none gave a sample, and why: none had the
 * field, or those with it had no time field; then the numeric fields they
 * had, "a, b, c", into buf. */
enum timeline_missing {
	TIMELINE_HAS_SAMPLES,
	TIMELINE_NO_FIELD,
	TIMELINE_NO_TIME,
};
enum timeline_missing timeline_field_missing(const struct timeline *tl,
                                             char *buf, size_t cap);

/*
 * A record's time in seconds: a name ending in _ms, _us or _ns says its
 * unit; otherwise epoch stamps in milliseconds, microseconds or
 * nanoseconds are told from seconds by their magnitude.
 */
double timeline_seconds(const char *name, double v);

/*
 * The fault periods of an events file: gw-read's records ("ok": false and
 * "offline" open one, good records and "online" close it) and the marker
 * pairs of --fault-event; the events' median interval as the edges'
 * tolerance unless faults->edge_given.  Event names nothing reads are
 * warned about, with their counts.
 */
int timeline_read_faults(struct timeline *tl, const char *path,
                         struct leak_faults *faults);

#endif
