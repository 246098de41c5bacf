/*
 * The verdict in words: the sentence of each reason, with the numbers it
 * rests on.  Part of the output contract: the report and the JSON's
 * "reason" say the same, and the tests read them.
 */
#include <math.h>
#include <stdio.h>

#include "human.h"
#include "leak.h"

const char *
leak_kind_name(enum leak_kind k)
{
	return k == LEAK_RISE ? "rise" : k == LEAK_FALL ? "fall" : "flat";
}

const char *
leak_end_name(enum leak_end end)
{
	static const char *const names[] = {"process", "restart", "limit",
	                                    "uptime", "event"};

	return names[end];
}

const char *
leak_end_words(enum leak_end end)
{
	switch (end) {
	case LEAK_END_LIMIT:
		return "restarted at its limit";
	case LEAK_END_UPTIME:
		return "rebooted";
	case LEAK_END_EVENT:
		return "started again";
	default:
		return "restarted";
	}
}

/* "grows" for a field where rising is bad, "falls" for free memory. */
static const char *
verb(double sign, const char *up, const char *down)
{
	return sign > 0 ? up : down;
}

/* The --min-rate a growth was below: the absolute one when it was, else
 * the relative one. */
static void
below_rate(char *buf, size_t cap, const struct leak_result *r, const char *f,
           double sign, const struct leak_rules *rules)
{
	char a[HUMAN_MAX];

	if (sign * r->slope < rules->min_rate_abs)
		snprintf(buf, cap, "%s",
		         human_rate(a, sizeof(a), f, rules->min_rate_abs));
	else
		snprintf(buf, cap, "%g %%/day", rules->min_rate);
}

/*
 * Long on purpose: one case per reason, each its sentence, read best side
 * by side.
 */
void
leak_reason(char *buf, size_t cap, const struct leak_result *r, const char *f,
            double sign, const struct leak_rules *rules)
{
	char a[HUMAN_MAX], b[HUMAN_MAX], d[HUMAN_MAX], t[HUMAN_MAX];

	buf[0] = '\0';
	switch (r->why) {
	case LEAK_WHY_TOO_FEW:
		snprintf(buf, cap, "too few samples");
		break;
	case LEAK_WHY_STEADY:
		snprintf(buf, cap, "no significant trend: %s now, p %.2g",
		         human_rate(a, sizeof(a), f, r->slope), r->slope_p);
		break;
	case LEAK_WHY_BELOW_RATE:
		below_rate(d, sizeof(d), r, f, sign, rules);
		snprintf(buf, cap, "%s %s, %s %%/day, below --min-rate %s",
		         verb(sign, "grows", "loses"),
		         human_rate(a, sizeof(a), f, sign * r->slope),
		         human_pct(b, sizeof(b), r->rate_pct_day), d);
		break;
	case LEAK_WHY_WITHIN_NOISE:
		snprintf(buf, cap,
		         "%s %s (p %.2g) but by less than %s, %g noise sds: "
		         "within the noise",
		         verb(sign, "rises", "falls"),
		         human_rate(a, sizeof(a), f, sign * r->slope),
		         r->slope_p, human_value(b, sizeof(b), f, r->material),
		         rules->material);
		break;
	case LEAK_WHY_TOO_RECENT:
		snprintf(buf, cap,
		         "%s since %s, over the last %zu samples only: too "
		         "recent to tell a trend",
		         verb(sign, "rises", "falls"),
		         human_time(t, sizeof(t), r->onset_ts), r->now_points);
		break;
	case LEAK_WHY_CAME_BACK:
		snprintf(buf, cap, "%s by %s and came back by %s",
		         verb(sign, "rose", "fell"),
		         human_value(a, sizeof(a), f, r->rise),
		         human_value(b, sizeof(b), f, r->fall));
		break;
	case LEAK_WHY_SETTLED:
		snprintf(buf, cap, "%s once, by %s, and is flat since %s",
		         verb(sign, "grew", "fell"),
		         human_value(a, sizeof(a), f, r->rise),
		         human_time(t, sizeof(t), r->flat_since));
		break;
	case LEAK_WHY_SLOWING:
		snprintf(buf, cap,
		         "%s slows toward zero: %s now, levelling off",
		         verb(sign, "growth", "the loss"),
		         human_rate(a, sizeof(a), f, sign * r->slope));
		break;
	case LEAK_WHY_FALLING:
		snprintf(buf, cap, "%s %s since %s",
		         verb(sign, "falls", "rises"),
		         human_rate(a, sizeof(a), f, -sign * r->slope),
		         human_time(t, sizeof(t),
		                    r->regime[r->nregimes - 1].start_ts));
		break;
	case LEAK_WHY_GROWS:
	case LEAK_WHY_FLOOR:
		snprintf(buf, cap, "%s%s %s since %s, %s %%/day",
		         r->why == LEAK_WHY_FLOOR ? "the floor under the "
		                                    "sawtooth "
		                                  : "",
		         verb(sign, "grows", "loses"),
		         human_rate(a, sizeof(a), f, sign * r->slope),
		         human_time(t, sizeof(t), r->onset_ts),
		         human_pct(b, sizeof(b), r->rate_pct_day));
		break;
	case LEAK_WHY_EPISODES:
		if (r->growing_s > 0)
			snprintf(
			    d, sizeof(d), "%s while %s",
			    human_rate(b, sizeof(b), f, r->rise / r->growing_s),
			    verb(sign, "growing", "losing"));
		else
			snprintf(d, sizeof(d), "in steps");
		snprintf(buf, cap,
		         "%s in episodes: %zu episodes, %s in all, %s; never "
		         "back %s, flat since %s",
		         verb(sign, "grows", "loses"), r->episodes,
		         human_value(a, sizeof(a), f, r->rise), d,
		         verb(sign, "down", "up"),
		         human_time(t, sizeof(t), r->flat_since));
		break;
	case LEAK_WHY_FAULTS:
		snprintf(
		    buf, cap,
		    "%s only during %s: %s inside (%zu period%s, %s), "
		    "%s outside",
		    verb(sign, "grows", "loses"),
		    r->fault_marked ? "the marked periods" : "faults",
		    human_rate(a, sizeof(a), f, sign * r->fault_in_slope),
		    r->fault_periods, r->fault_periods == 1 ? "" : "s",
		    human_duration(d, sizeof(d), r->fault_s),
		    human_rate(b, sizeof(b), f, sign * r->fault_out_slope));
		break;
	case LEAK_WHY_STEPS:
		snprintf(buf, cap,
		         "peaks climb in steps while the floor stays flat");
		break;
	case LEAK_WHY_LIMIT_NOW:
		snprintf(buf, cap, "the limit %s is already reached",
		         human_value(a, sizeof(a), f, rules->limit));
		break;
	case LEAK_WHY_LIMIT_SOON:
		snprintf(buf, cap, "at %s the limit %s is reached in %s",
		         human_rate(a, sizeof(a), f, r->slope),
		         human_value(b, sizeof(b), f, rules->limit),
		         human_duration(d, sizeof(d), r->time_to_limit_s));
		break;
	case LEAK_WHY_RECURS:
		snprintf(buf, cap,
		         "leaks in each of the last %zu lives, %s %s; "
		         "%s every %s",
		         r->lives_leaking, verb(sign, "growing", "losing"),
		         human_rate(a, sizeof(a), f, sign * r->slope),
		         leak_end_words((enum leak_end)r->lives_end),
		         human_duration(d, sizeof(d), r->life_every_s));
		break;
	case LEAK_WHY_STOPPED:
		snprintf(buf, cap, "leaked in %zu li%s, not in the last %zu",
		         r->lives_leaked, r->lives_leaked == 1 ? "fe" : "ves",
		         r->lives_calm);
		break;
	case LEAK_WHY_LIVES_CALM:
		snprintf(buf, cap,
		         "no leak in the last %zu lives; this one is "
		         "%s old",
		         r->lives, human_duration(d, sizeof(d), r->life_s));
		break;
	case LEAK_WHY_RAMPS:
		snprintf(buf, cap,
		         "each of the last %zu lives rose for its "
		         "first %s, then held; this one is %s old",
		         r->lives, human_duration(a, sizeof(a), r->ramp_s),
		         human_duration(d, sizeof(d), r->life_s));
		break;
	case LEAK_WHY_BURSTS:
		snprintf(buf, cap,
		         "keeps %s of each burst: the floor %s from "
		         "%s to %s over %zu bursts",
		         human_value(a, sizeof(a), f, sign * r->burst_kept),
		         verb(sign, "rose", "fell"),
		         human_value(b, sizeof(b), f, r->floor_from),
		         human_value(d, sizeof(d), f, r->floor_to), r->bursts);
		break;
	case LEAK_WHY_EPISODES_STOPPED:
		snprintf(
		    buf, cap,
		    "%s in %zu episodes, %s in all, none since %s: %s "
		    "flat, over %.1f times their spacing of %s",
		    verb(sign, "grew", "fell"), r->episodes,
		    human_value(a, sizeof(a), f, r->rise),
		    human_time(t, sizeof(t), r->flat_since),
		    human_duration(d, sizeof(d), r->last_ts - r->flat_since),
		    log(1 / rules->alpha),
		    human_duration(b, sizeof(b), r->episode_gap_s));
		break;
	case LEAK_WHY_EPISODES_THIN:
		snprintf(buf, cap,
		         "%s in %zu episodes, ever less: %s in the first third "
		         "of the time, %s in the last",
		         verb(sign, "grew", "fell"), r->episodes,
		         human_value(a, sizeof(a), f, sign * r->third_first),
		         human_value(b, sizeof(b), f, sign * r->third_last));
		break;
	case LEAK_WHY_STEPS_WANDER:
		snprintf(buf, cap,
		         "moves in steps both ways: %zu steps, %s %s in all, "
		         "as far as the same steps in random directions go "
		         "(p %.2g)",
		         r->steps,
		         human_value(a, sizeof(a), f, sign * r->steps_net),
		         verb(sign, "up", "down"), r->steps_p);
		break;
	case LEAK_WHY_STALE:
		snprintf(buf, cap,
		         "the last sample is %s old, from %s: over --max-age "
		         "%s",
		         human_duration(a, sizeof(a), r->age_s),
		         human_time(t, sizeof(t), r->last_ts),
		         human_duration(b, sizeof(b), r->max_age_s));
		break;
	case LEAK_WHY_ARENAS:
	case LEAK_WHY_HEAP_NOT_ALLOC:
		break; /* where's evidence: where_reason() */
	}
}
