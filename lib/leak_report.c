#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "fleet.h"
#include "human.h"
#include "leak_report.h"

#define WHY_MAX 512

void
leak_report_reason(char *buf, size_t cap, const struct leak_report *v)
{
	if (v->where == NULL ||
	    !where_reason(buf, cap, v->res, v->where, v->alloc_field))
		leak_reason(buf, cap, v->res, v->field, v->stream->series.sign,
		            v->rules);
}

/* ---- the forms of a value ------------------------------------------- */

/* A value of field: as is in JSON, in its units in text. */
static void
size(struct printer *p, int kind, const char *key, const char *field, double v)
{
	char t[HUMAN_MAX];

	print_num_as(p, kind, key, v, human_value(t, sizeof(t), field, v));
}

/* A slope per second: per hour in JSON, in text with its unit and time
 * ("180 KB/h", "82 B/min"). */
static void
rate(struct printer *p, int kind, const char *key, const char *field,
     double per_s)
{
	char t[HUMAN_MAX];

	print_num_as(p, kind, key, per_s * 3600,
	             human_rate(t, sizeof(t), field, per_s));
}

/* A Unix time: as is in JSON, a local date in text. */
static void
when(struct printer *p, int kind, const char *key, double ts)
{
	char t[HUMAN_MAX];

	print_num_as(p, kind, key, ts, human_time(t, sizeof(t), ts));
}

/* Seconds, in JSON scaled by json_scale (1: seconds), in words in text. */
static void
span(struct printer *p, int kind, const char *key, double s, double json_scale)
{
	char t[HUMAN_MAX];

	print_num_as(p, kind, key, s * json_scale,
	             human_duration(t, sizeof(t), s));
}

/* Eight-level unicode sparkline of the bucket means into buf. */
static void
sparkline(char *buf, size_t cap, const struct leak_series *s, size_t width)
{
	static const char *const bars[] = {"\u2581", "\u2582", "\u2583",
	                                   "\u2584", "\u2585", "\u2586",
	                                   "\u2587", "\u2588"};
	double lo = INFINITY, hi = -INFINITY, col[64];
	size_t i, j, at = 0;

	buf[0] = '\0';
	if (s->n == 0)
		return;
	if (width > s->n)
		width = s->n;
	for (j = 0; j < width; j++) {
		size_t a = j * s->n / width, b = (j + 1) * s->n / width;
		double sum = 0, n = 0;

		for (i = a; i < b; i++) {
			sum += s->b[i].v * s->b[i].n;
			n += s->b[i].n;
		}
		col[j] = s->sign * sum / n;
		lo = fmin(lo, col[j]);
		hi = fmax(hi, col[j]);
	}
	for (j = 0; j < width && at + 4 < cap; j++) {
		int k = hi > lo ? (int)((col[j] - lo) / (hi - lo) * 7.999) : 0;

		at += (size_t)snprintf(buf + at, cap - at, "%s", bars[k]);
	}
}

/* ---- the parts of a verdict ----------------------------------------- */

/* --by: the group's fields, each value as a string (JSON only). */
static void
print_group(struct printer *p, const struct leak_report *v)
{
	const char *k = v->key, *end = v->key + v->key_len;
	int i;

	for (i = 0; v->key != NULL && i < v->nby; i++) {
		const char *sep = memchr(k, FLEET_SEP, (size_t)(end - k));
		size_t n = (size_t)((sep ? sep : end) - k);

		print_strn(p, PRINT_JSON, v->by[i], k, n);
		k = sep ? sep + 1 : end;
	}
}

/* The verdict, its reason, and the series it rests on. */
static void
print_head(struct printer *p, const struct leak_report *v)
{
	const struct leak_result *r = v->res;
	const char *f = v->field;
	bool judged = r->verdict != LEAK_INSUFFICIENT;
	char why[WHY_MAX], spark[32 * 4 + 1];

	leak_report_reason(why, sizeof(why), v);
	print_line(p, PRINT_ANY, "$3: $1 ($2)\n");
	print_str(p, PRINT_ANY, "verdict", "%s", leak_verdict_name(r->verdict));
	print_str(p, PRINT_ANY, "reason", "%s", why);
	print_str(p, PRINT_ANY, "field", "%s", f);
	print_line_end(p);
	print_str(p, PRINT_JSON, "direction", NULL,
	          v->stream->series.sign > 0 ? "rising" : "falling");
	print_line(p, PRINT_ANY,
	           "  series    $1 samples over $2, level $3, last $4  $5\n");
	print_uint(p, PRINT_ANY, "samples", "%llu", r->samples);
	print_uint(p, PRINT_JSON, "points", NULL, r->points);
	print_num(p, PRINT_JSON, "first_ts", NULL,
	          r->samples ? r->first_ts : NAN);
	print_num(p, PRINT_JSON, "last_ts", NULL,
	          r->samples ? r->last_ts : NAN);
	span(p, PRINT_ANY, "span_s", r->span_s, 1);
	/* JSON has null for what is not known; the text shows the field */
	size(p, PRINT_JSON, "level", f, judged ? r->level : NAN);
	size(p, PRINT_TEXT, NULL, f, r->level);
	size(p, PRINT_ANY, "last", f, r->samples ? r->last : NAN);
	sparkline(spark, sizeof(spark), &v->stream->series, 32);
	print_str(p, PRINT_TEXT, NULL, "%s", spark);
	print_line_end(p);
}

/* The start of the process left out of the judging. */
static void
print_warmup(struct printer *p, const struct leak_report *v, int kind)
{
	char t[HUMAN_MAX];

	if (!(v->res->warmup_s > 0))
		return;
	print_line(p, kind,
	           "  warm-up   the first $1 after the start left out\n");
	print_str(p, PRINT_TEXT, NULL, "%s",
	          human_duration(t, sizeof(t), v->res->warmup_s));
	print_line_end(p);
}

/* The slope now and its confidence. */
static void
print_now(struct printer *p, const struct leak_report *v, int kind)
{
	const struct leak_result *r = v->res;
	double confidence = 1 - 2 * v->rules->alpha;
	char pct[HUMAN_MAX];

	print_line(p, kind,
	           "  now       $1 ($6 %/day), $5% one-sided CI $2 .. "
	           "$3, p $4\n");
	rate(p, kind, "slope_per_h", v->field, r->slope);
	print_open_array(p, "slope_ci_per_h");
	rate(p, kind, NULL, v->field, r->slope_lo);
	rate(p, kind, NULL, v->field, r->slope_hi);
	print_close_array(p);
	print_num(p, kind, "slope_p", "%.2g", r->slope_p);
	snprintf(pct, sizeof(pct), "%g", 100 * confidence);
	print_num_as(p, kind, "confidence", confidence, pct);
	print_num_as(p, kind, "rate_pct_day", r->rate_pct_day,
	             human_pct(pct, sizeof(pct), r->rate_pct_day));
	print_line_end(p);
	print_num(p, PRINT_JSON, "warmup_s", NULL, r->warmup_s);
}

/* The regimes (all in JSON, the last six in text) and the episodes. */
static void
print_regimes(struct printer *p, const struct leak_report *v, int kind)
{
	const struct leak_result *r = v->res;
	size_t i, first = r->nregimes > 6 ? r->nregimes - 6 : 0;

	print_line(p, kind,
	           v->stream->series.sign > 0
	               ? "  regimes   $1; episodes of growth $2$3\n"
	               : "  regimes   $1; episodes of loss $2$3\n");
	print_uint(p, PRINT_TEXT, NULL, "%llu", r->nregimes);
	print_uint(p, PRINT_TEXT, NULL, "%llu", r->episodes);
	print_str(p, PRINT_TEXT, NULL, "%s",
	          r->sawtooth ? " (of the floor under the sawtooth)" : "");
	print_line_end(p);
	print_open_array(p, "regimes");
	for (i = 0; i < r->nregimes; i++) {
		const struct leak_regime *x = &r->regime[i];
		int k = i >= first ? kind : PRINT_JSON;

		print_line(p, k, "            $1 .. $2  $3 $4$5\n");
		print_open_object(p, NULL);
		when(p, k, "start_ts", x->start_ts);
		when(p, k, "end_ts", x->end_ts);
		print_str(p, k, "kind", "%-4s", leak_kind_name(x->kind));
		rate(p, k, "slope_per_h", v->field, x->slope);
		print_num(p, PRINT_JSON, "p", NULL, x->p);
		print_num(p, PRINT_JSON, "level_start", NULL, x->level_start);
		print_num(p, PRINT_JSON, "level_end", NULL, x->level_end);
		print_num(p, PRINT_JSON, "step", NULL,
		          x->jump_significant ? x->jump : 0);
		print_str(p, k & PRINT_TEXT, NULL, "%s",
		          x->jump_significant ? ", after a step" : "");
		print_uint(p, PRINT_JSON, "points", NULL, x->points);
		print_close_object(p);
		print_line_end(p);
	}
	print_close_array(p);
	print_num(p, PRINT_JSON, "onset_ts", NULL, r->onset_ts);
	print_num(p, PRINT_JSON, "flat_since_ts", NULL, r->flat_since);
	print_open_object(p, "episodes");
	print_uint(p, PRINT_JSON, "count", NULL, r->episodes);
	print_num(p, PRINT_JSON, "rise", NULL, r->rise);
	print_num(p, PRINT_JSON, "fall", NULL, r->fall);
	print_num(p, PRINT_JSON, "growing_s", NULL, r->growing_s);
	print_num(p, PRINT_JSON, "rate_per_h", NULL,
	          (r->growing_s > 0 ? r->rise / r->growing_s : NAN) * 3600);
	print_close_object(p);
	if (r->steps > 0) {
		print_line(p, kind,
		           "  steps     $1, $2 in all; a walk of them goes as "
		           "far with p $3\n");
		print_open_object(p, "steps");
		print_uint(p, kind, "count", "%llu", r->steps);
		size(p, kind, "net", v->field, r->steps_net);
		print_num(p, kind, "p", "%.2g", r->steps_p);
		print_close_object(p);
		print_line_end(p);
	}
}

/* The noise model, the whole series' statistics. */
static void
print_statistics(struct printer *p, const struct leak_report *v, int kind)
{
	const struct leak_result *r = v->res;
	const char *f = v->field;

	print_line(p, kind,
	           "  noise     sd $1, lag-1 correlation $2: variances "
	           "wider x$3\n");
	print_open_object(p, "noise");
	size(p, kind, "sd", f, r->noise_sd);
	print_num(p, kind, "phi", "%.2f", r->noise_phi);
	print_num(p, kind, "factor", "%.2f", r->noise_factor);
	print_close_object(p);
	print_line_end(p);
	print_bool_as(p, PRINT_JSON, "sawtooth", r->sawtooth, NULL);
	print_num(p, PRINT_JSON, "tooth_s", NULL,
	          r->sawtooth ? r->tooth_s : NAN);
	print_line(p, kind,
	           "  overall   Theil-Sen $1, OLS $2 (R\u00b2 $3), "
	           "Mann-Kendall z $4\n");
	rate(p, kind, "theil_sen_slope_per_h", f, r->ts.slope);
	rate(p, kind, "ols_slope_per_h", f, r->ols.slope);
	print_num(p, kind, "ols_r2", "%.2f", r->ols.r2);
	print_num(p, kind, "mk_z", "%.2f", r->mk.z);
	print_num(p, PRINT_JSON, "mk_p", NULL, r->mk.p);
	print_line_end(p);
	print_num(p, PRINT_JSON, "envelope_slope_per_h", NULL,
	          r->envelope_slope * 3600);
	print_num(p, PRINT_JSON, "envelope_share", NULL, r->envelope_share);
	print_str(p, PRINT_JSON, "envelope_field", NULL,
	          r->envelope_from_aux ? "anon_kb" : NULL);
	print_num(p, PRINT_JSON, "step_share", NULL, r->step_share);
	print_num(p, PRINT_JSON, "growth_started_ts", NULL, r->onset_ts);
}

/* --limit: when the trend reaches it. */
static void
print_limit(struct printer *p, const struct leak_report *v)
{
	int lk = isnan(v->rules->limit) ? PRINT_JSON : PRINT_ANY;
	char t[HUMAN_MAX];

	print_line(p, lk, "  limit     $1 reached in $2 (horizon $3)\n");
	size(p, lk, "limit", v->field, v->rules->limit);
	span(p, lk, "time_to_limit_h", v->res->time_to_limit_s, 1.0 / 3600);
	print_str(p, lk & PRINT_TEXT, NULL, "%s",
	          human_duration(t, sizeof(t), v->rules->horizon_s));
	print_line_end(p);
}

/* Growth inside and outside the fault periods of --events. */
static void
print_faults(struct printer *p, const struct leak_report *v)
{
	const struct leak_result *r = v->res;

	if (!r->have_faults)
		return;
	print_line(p, PRINT_ANY,
	           r->fault_marked
	               ? "  marked    $1 period$2, $3 in all: $4 inside (p "
	                 "$5), $6 outside (p $7)\n"
	               : "  faults    $1 period$2, $3 in all: $4 inside (p "
	                 "$5), $6 outside (p $7)\n");
	print_open_object(p, "faults");
	print_bool_as(p, PRINT_JSON, "marked", r->fault_marked, NULL);
	print_uint(p, PRINT_ANY, "periods", "%llu", r->fault_periods);
	print_str(p, PRINT_TEXT, NULL, "%s", r->fault_periods == 1 ? "" : "s");
	span(p, PRINT_ANY, "fault_s", r->fault_s, 1);
	rate(p, PRINT_ANY, "in_slope_per_h", v->field, r->fault_in_slope);
	print_num(p, PRINT_ANY, "in_p", "%.2g", r->fault_in_p);
	rate(p, PRINT_ANY, "out_slope_per_h", v->field, r->fault_out_slope);
	print_num(p, PRINT_ANY, "out_p", "%.2g", r->fault_out_p);
	print_num(p, PRINT_JSON, "edge_s", NULL, r->fault_edge_s);
	print_close_object(p);
	print_line_end(p);
}

/* Where the growth is, one row per mapping or site, largest share
 * first: in text the first `most` that carry 1 % or more. */
struct growth_rows {
	int n, most;
	const char *key;                 /* "mapping" or "site" */
	const char *none, *first, *next; /* the text's templates */
	const char *name[WHERE_SITES > WHERE_NAMES ? WHERE_SITES : WHERE_NAMES];
	double share[WHERE_SITES > WHERE_NAMES ? WHERE_SITES : WHERE_NAMES];
	double slope[WHERE_SITES > WHERE_NAMES ? WHERE_SITES : WHERE_NAMES];
	const bool *faults_only[WHERE_SITES]; /* sites: NULL for mappings */
	void (*words)(char *buf, size_t cap, const char *name);
};

static void
print_growth(struct printer *p, const struct growth_rows *g, int kind)
{
	char words[WHERE_SITE_MAX], share[HUMAN_MAX];
	int i, shown = 0;

	while ((kind & PRINT_TEXT) && shown < g->n && shown < g->most &&
	       g->share[shown] >= 0.01)
		shown++;
	print_str(p, g->n > 0 ? 0 : kind & PRINT_TEXT, NULL, "%s", g->none);
	print_open_array(p, "where");
	for (i = 0; i < g->n; i++) {
		int k = i < shown ? PRINT_ANY : PRINT_JSON;
		const bool *fo = g->faults_only[i];

		print_line(p, k, i == 0 ? g->first : g->next);
		g->words(words, sizeof(words), g->name[i]);
		snprintf(share, sizeof(share), "%.0f", 100 * g->share[i]);
		print_open_object(p, NULL);
		print_str(p, k, g->key, "%s", g->name[i]);
		print_num_as(p, k, "share", g->share[i], share);
		rate(p, k, "slope_per_h", "x_kb", g->slope[i]);
		print_str(p, k & PRINT_TEXT, NULL, "%s", words);
		if (fo)
			print_bool_as(p, k, "faults_only", *fo,
			              *fo ? ", only during faults" : "");
		print_close_object(p);
		print_line_end(p);
	}
	print_close_array(p);
	print_str(p, g->n > 0 ? kind & PRINT_TEXT : 0, NULL, "%s", "\n");
}

/* The mappings that grow: "92 % of the growth is in the brk heap
 * ([heap], 1.2 MB/h); ..." */
static void
print_mappings(struct printer *p, const struct where_findings *w, int kind)
{
	struct growth_rows g = {
	    .n = w->nitems,
	    .most = 4,
	    .key = "mapping",
	    .none = "  where     no mapping grows\n",
	    .first = "  where     $2 % of the growth is in $4 ($1, $3)",
	    .next = "; $2 % in $4 ($1, $3)",
	    .words = where_words};
	int i;

	for (i = 0; i < w->nitems; i++) {
		g.name[i] = w->items[i].name;
		g.share[i] = w->items[i].share;
		g.slope[i] = w->items[i].slope;
	}
	print_growth(p, &g, kind);
}

/* heap-watch's call sites that grow: "87 % of the growth is allocated in
 * cache_put (libfoo.so) < handle_reply < main (1.2 MB/h); ..." */
static void
print_sites(struct printer *p, const struct where_findings *w, int kind)
{
	struct growth_rows g = {
	    .n = w->nsites,
	    .most = 3,
	    .key = "site",
	    .none = "  where     no call site grows\n",
	    .first = "  where     $2 % of the growth is allocated in $4 ($3$5)",
	    .next = ";\n            $2 % in $4 ($3$5)",
	    .words = where_site_words};
	int i;

	for (i = 0; i < w->nsites; i++) {
		g.name[i] = w->sites[i].site;
		g.share[i] = w->sites[i].share;
		g.slope[i] = w->sites[i].slope;
		g.faults_only[i] = &w->sites[i].faults_only;
	}
	print_growth(p, &g, kind);
}

/* With maps: where the growth is, and the allocator's evidence. */
static void
print_where(struct printer *p, const struct leak_report *v, int kind)
{
	const struct where_findings *w = v->where;
	const struct where_arena_evidence *e;
	int ka, kh;

	if (w == NULL || !w->known)
		return;
	if (w->by_site) {
		print_sites(p, w, kind);
		return;
	}
	print_mappings(p, w, kind);
	e = &w->arenas;
	kind &= w->nitems > 0 ? PRINT_ANY : PRINT_JSON; /* text says no more */
	ka = kind &
	     (e->arenas_to > 0 || e->arenas_from > 0 ? PRINT_ANY : PRINT_JSON);
	print_line(p, ka,
	           "  arenas    $2 to $3 arena heaps, $4 to $5 threads$1\n");
	print_open_object(p, "arenas");
	print_bool_as(p, ka, "fired", e->fired,
	              e->fired ? ": each flat, fragmentation" : "");
	print_num(p, ka, "from", "%.0f", e->arenas_from);
	print_num(p, ka, "to", "%.0f", e->arenas_to);
	print_num(p, ka, "threads_from", "%.0f", e->threads_from);
	print_num(p, ka, "threads_to", "%.0f", e->threads_to);
	print_num(p, PRINT_JSON, "per_arena_kb_from", NULL,
	          e->per_arena_from_kb);
	print_num(p, PRINT_JSON, "per_arena_kb_to", NULL, e->per_arena_to_kb);
	print_close_object(p);
	print_line_end(p);
	if (!w->heap.known)
		return;
	kh = kind;
	print_line(p, kh, "  allocs    heap $3, $1 $4$2\n");
	print_open_object(p, "allocations");
	print_str(p, kh, "field", "%s", v->alloc_field);
	print_bool_as(p, kh, "fired", w->heap.fired,
	              w->heap.fired ? ": the heap outgrows them" : "");
	rate(p, kh, "heap_slope_per_h", "x_kb", w->heap.heap_slope);
	rate(p, kh, "alloc_slope_per_h", "x_kb", w->heap.alloc_slope);
	print_close_object(p);
	print_line_end(p);
}

/* "20 leak, 6 steady": the verdicts of lives [0, n). */
static void
verdict_counts(char *buf, size_t cap, const struct leak_segment *s, size_t n)
{
	size_t count[LEAK_VERDICTS] = {0}, i, at = 0;
	int v;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		count[s[i].verdict]++;
	for (v = LEAK_VERDICTS - 1; v >= LEAK_INSUFFICIENT && at < cap; v--)
		if (count[v] > 0)
			at += (size_t)snprintf(buf + at, cap - at, "%s%zu %s",
			                       at ? ", " : "", count[v],
			                       leak_verdict_name(v));
}

/* How the lives before came and went, and what the recent ones did. */
static void
print_lives_summary(struct printer *p, const struct leak_report *v, int k)
{
	const struct leak_result *r = v->res;
	enum leak_end end = (enum leak_end)r->lives_end;

	print_line(p, k,
	           isnan(r->life_every_s)
	               ? "  lives     $1 before this one; this one is $4 old\n"
	               : "  lives     $1 before this one, $2 every $3; this "
	                 "one is $4 old\n");
	print_open_object(p, "lives");
	print_uint(p, k, "before", "%llu", v->stream->total_segments);
	print_str(p, PRINT_JSON, "end", NULL, leak_end_name(end));
	print_str(p, k & PRINT_TEXT, NULL, "%s", leak_end_words(end));
	span(p, k, "every_s", r->life_every_s, 1);
	span(p, k, "age_s", r->life_s, 1);
	print_line_end(p);
	print_uint(p, PRINT_JSON, "recent", NULL, r->lives);
	print_uint(p, PRINT_JSON, "leaking", NULL, r->lives_leaking);
	print_uint(p, PRINT_JSON, "leaked", NULL, r->lives_leaked);
	print_uint(p, PRINT_JSON, "calm", NULL, r->lives_calm);
	rate(p, PRINT_JSON, "slope_per_h", v->field, r->lives_slope);
	print_close_object(p);
}

/* The earlier lives of the process (restarts, reboots) and their own
 * verdicts: all kept in JSON, the last six in text. */
static void
print_segments(struct printer *p, const struct leak_report *v, int kind)
{
	const struct leak_stream *st = v->stream;
	size_t i, first = st->ndone > 6 ? st->ndone - 6 : 0;
	int k = kind & (st->total_segments > 0 ? PRINT_ANY : PRINT_JSON);
	char counts[128];

	print_lives_summary(p, v, k);
	verdict_counts(counts, sizeof(counts), st->done, first);
	print_line(p, first > 0 ? k & PRINT_TEXT : 0,
	           "            ... $1 earlier: $2\n");
	print_uint(p, PRINT_TEXT, NULL, "%llu",
	           (uint64_t)(st->total_segments - (st->ndone - first)));
	print_str(p, PRINT_TEXT, NULL, "%s", counts);
	print_line_end(p);
	print_uint(p, PRINT_JSON, "segment_count", NULL,
	           (uint64_t)st->total_segments + 1);
	print_open_array(p, "segments");
	for (i = 0; i < st->ndone; i++) {
		const struct leak_segment *s = &st->done[i];
		int ks = i >= first ? k : k & PRINT_JSON;

		print_line(p, ks, "            pid $3 $1 .. $2  $4 $5  $6\n");
		print_open_object(p, NULL);
		when(p, ks, "first_ts", s->first_ts);
		when(p, ks, "last_ts", s->last_ts);
		print_uint(p, PRINT_JSON, "samples", NULL, s->samples);
		print_num(p, s->has_id ? ks : ks & PRINT_TEXT, "pid", "%-7.0f",
		          s->pid);
		print_num(p, s->has_id ? PRINT_JSON : 0, "start", NULL,
		          s->start);
		print_str(p, ks, "verdict", "%-17s",
		          leak_verdict_name(s->verdict));
		rate(p, ks, "slope_per_h", v->field, s->slope);
		print_str(p, ks, "end", "%s", leak_end_name(s->end));
		print_close_object(p);
		print_line_end(p);
	}
	print_close_array(p);
}

void
leak_report_print(struct printer *p, const struct leak_report *v)
{
	const struct leak_result *r = v->res;
	bool judged = r->verdict != LEAK_INSUFFICIENT;
	/* the text of a verdict without data ends where it says so */
	int after = judged ? PRINT_ANY : PRINT_JSON;
	int stats = v->verbose ? PRINT_ANY : PRINT_JSON;

	print_group(p, v);
	print_head(p, v);
	print_line(p, judged ? 0 : PRINT_TEXT,
	           "  need      at least $1 samples over some time\n");
	print_uint(p, judged ? 0 : PRINT_TEXT, NULL, "%llu",
	           v->rules->min_samples);
	print_line_end(p);
	/* the first lines are plain words; the statistics, -v's */
	if (judged && r->life_judged)
		print_warmup(p, v, PRINT_ANY);
	if (judged) /* the lives' verdict of a young life too */
		print_now(p, v, r->life_judged ? stats : PRINT_JSON);
	if (r->life_judged) {
		print_regimes(p, v, stats);
		print_statistics(p, v, stats);
		print_limit(p, v);
		print_faults(p, v);
	}
	print_where(p, v, after);
	print_segments(p, v, after);
	print_uint(p, PRINT_JSON, "malformed", NULL, v->malformed);
	print_uint(p, PRINT_JSON, "skipped", NULL, v->skipped);
	print_uint(p, PRINT_JSON, "bad_ts", NULL, v->bad_ts);
	print_num(p, PRINT_JSON, "age_s", NULL,
	          r->verdict == LEAK_STALE ? r->age_s : NAN);
	print_num(p, PRINT_JSON, "max_age_s", NULL,
	          r->verdict == LEAK_STALE ? r->max_age_s : NAN);
	print_uint(p, PRINT_JSON, "out_of_order", NULL,
	           v->stream->out_of_order);
}

int
leak_report_write(FILE *fp, bool json, const struct leak_report *v)
{
	struct timespec now;
	struct jsonl_writer w;
	struct printer p;
	int rc;

	if (!json) {
		print_text_init(&p, fp);
		leak_report_print(&p, v);
		return 0;
	}
	now = clock_wall();
	jsonl_writer_init(&w, fp);
	jsonl_begin(&w, &now, "leak-classify");
	print_json_init(&p, &w);
	leak_report_print(&p, v);
	rc = jsonl_end(&w);
	jsonl_writer_free(&w);
	return rc;
}

/* ---- --by's table ----------------------------------------------------- */

void
leak_report_table_header(FILE *fp)
{
	fprintf(fp, "%-20s %-22s %14s %9s  %-19s  %s\n", "GROUP", "VERDICT",
	        "SLOPE", "%/DAY", "ONSET", "TO LIMIT");
}

/* The group's values for people: "gx1,python3"; "-" for an empty one. */
static void
group_text(char *buf, size_t cap, const char *key, size_t key_len)
{
	size_t i, at = 0;
	bool empty = true;

	for (i = 0; i <= key_len && at + 2 < cap; i++) {
		if (i == key_len || key[i] == FLEET_SEP) {
			if (empty)
				buf[at++] = '-';
			if (i < key_len)
				buf[at++] = ',';
			empty = true;
			continue;
		}
		buf[at++] = key[i];
		empty = false;
	}
	buf[at] = '\0';
}

void
leak_report_table_row(FILE *fp, const struct leak_report *v)
{
	const struct leak_result *r = v->res;
	char name[FLEET_KEY_MAX + 8], a[HUMAN_MAX], t[HUMAN_MAX], d[HUMAN_MAX],
	    p[HUMAN_MAX];
	bool calm = r->verdict == LEAK_INSUFFICIENT;

	group_text(name, sizeof(name), v->key, v->key_len);
	fprintf(fp, "%-20s %-22s %14s %9s  %-19s  %s\n", name,
	        leak_verdict_name(r->verdict),
	        calm ? "-" : human_rate(a, sizeof(a), v->field, r->slope),
	        calm ? "-" : human_pct(p, sizeof(p), r->rate_pct_day),
	        isfinite(r->onset_ts) ? human_time(t, sizeof(t), r->onset_ts)
	                              : "-",
	        isfinite(r->time_to_limit_s)
	            ? human_duration(d, sizeof(d), r->time_to_limit_s)
	            : "-");
}
