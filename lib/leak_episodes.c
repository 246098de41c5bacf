/*
 * The story the regimes tell: episodes of growth, whether the current one
 * slows toward zero, the thirds of the time, and the step walk of a series
 * that moves in steps.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "leak_impl.h"
#include "trend.h"

/*
 * The rising lines of the current episode while it still rises (0 when
 * they cannot be a settling curve): a curve
 * settling is several of them, none much faster than the one before;
 * growth that stopped at a kink (a night's ramp, then the day) has a flat
 * line last, or just two lines with the rate dropping more than 20-fold
 * between them, and growth that comes and goes rises again: no curve.
 */
size_t
leak_rising_lines(const struct leak_regime *rg, size_t n)
{
	size_t k = 0, i = n;

	while (i > 0 && rg[i - 1].kind == LEAK_RISE) {
		k++;
		i--;
		if (rg[i].jump_significant && rg[i].jump < 0)
			break;
	}
	/* two lines only, the rate dropping 20-fold between them: a kink */
	if (k == 2 && rg[n - 1].slope < 0.05 * rg[n - 2].slope)
		return 0;
	/* a rate that rises again (beyond noise) does not fall steadily */
	for (i = n - k + 1; i < n; i++)
		if (rg[i].slope > 1.5 * rg[i - 1].slope)
			return 0;
	return k;
}

/* A flat regime after a rise (no step between) that cannot be told from
 * half that rise: the rise going on, not a pause. */
static bool
still_rising(const struct leak_regime *rg, const double *se, size_t i,
             double zc)
{
	return i > 0 && rg[i].kind == LEAK_FLAT &&
	       rg[i - 1].kind == LEAK_RISE && !rg[i].jump_significant &&
	       rg[i].slope + zc * se[i] >= 0.5 * rg[i - 1].slope;
}

/*
 * Growth that slows toward zero (a curve settling onto a plateau): over
 * the current episode, split in thirds by time, the last third rises at
 * most settle_ratio of the first.  A leak keeps its rate; a curve
 * settling within the episode has lost nearly all of it.  monotone: the
 * middle third must also lie between (an episode of one line, which a
 * curve becomes when its bend reads as noise).
 */
bool
leak_slowing(const double *t, const double *y, size_t n, double from,
             double settle_ratio, bool monotone)
{
	struct trend_line head, mid, tail;
	size_t a = 0, b, c;
	double span;

	while (a < n && t[a] < from)
		a++;
	if (n - a < 9)
		return false;
	span = t[n - 1] - t[a];
	for (b = a; b < n && t[b] - t[a] < span / 3; b++)
		;
	for (c = b; c < n && t[c] - t[a] < 2 * span / 3; c++)
		;
	if (b - a < 3 || n - c < 3)
		return false;
	leak_line_fit(t, y, a, b, &head);
	leak_line_fit(t, y, b, c, &mid);
	leak_line_fit(t, y, c, n, &tail);
	if (monotone && !(mid.slope < head.slope && tail.slope < mid.slope))
		return false;
	return head.slope > 0 && tail.slope <= settle_ratio * head.slope;
}

/*
 * A rise that is a pause between episodes: at less than settle_ratio of
 * the rate of the rise before it, and by less than the material amount
 * over its whole length (a day's creep between two nights of growth).
 */
static bool
is_pause_between_episodes(const struct leak_regime *rg, size_t i,
                          double settle_ratio, double material)
{
	const struct leak_regime *x = &rg[i];

	return i > 0 && rg[i - 1].kind == LEAK_RISE &&
	       x->slope < settle_ratio * rg[i - 1].slope &&
	       x->slope * (x->end_ts - x->start_ts) < material;
}

/* The end of an episode: it counts when it rose at least `material`. */
static void
close_episode(struct story *st, double *rise, double *grow_s, double onset,
              double end, double material)
{
	if (*rise >= material) {
		st->episodes++;
		st->rise += *rise;
		st->growing_s += *grow_s;
		if (st->episodes == 1)
			st->first_onset_ts = onset;
		st->onset_ts = onset;
		st->ended_ts = end;
	}
	*rise = *grow_s = 0;
}

/*
 * Walk the regimes in time: an episode is a run of growth (rising
 * regimes, significant steps up) that a flat or falling stretch ends, and
 * counts when it rose by `material` or more.
 * The current regime decides "growing now"; a flat one right after a
 * rise that cannot be told from half that rise is still the rise.
 */
void
leak_tell(const struct leak_regime *rg, size_t n, const double *se, double zc,
          double settle_ratio, double material, struct story *st)
{
	const struct leak_regime *now = &rg[n - 1];
	double ep_rise = 0, ep_s = 0, ep_onset = NAN;
	bool in = false;
	size_t i, ep_points = 0;

	memset(st, 0, sizeof(*st));
	st->onset_ts = st->ended_ts = NAN;
	st->material = material;
	for (i = 0; i < n; i++) {
		const struct leak_regime *x = &rg[i];
		double dur = x->end_ts - x->start_ts;
		bool up = x->jump_significant && x->jump > 0;
		bool rising = (x->kind == LEAK_RISE &&
		               !is_pause_between_episodes(rg, i, settle_ratio,
		                                          material)) ||
		              ((in || up) && still_rising(rg, se, i, zc));

		if (x->jump_significant && x->jump < 0) {
			st->fall -= x->jump;
			if (in)
				close_episode(st, &ep_rise, &ep_s, ep_onset,
				              x->start_ts, material);
			in = false;
		}
		if (up || rising) {
			if (!in) {
				ep_onset = x->start_ts;
				ep_points = 0;
			}
			ep_points += x->points;
			in = true;
			ep_rise += (up ? x->jump : 0) +
			           (rising ? fmax(x->slope, 0) * dur : 0);
			ep_s += rising ? dur : 0;
		}
		if (!rising) {
			if (x->kind == LEAK_FALL)
				st->fall -= x->slope * dur;
			if (in)
				close_episode(st, &ep_rise, &ep_s, ep_onset,
				              x->start_ts, material);
			in = false;
		}
	}
	/* growing now: the current episode, if it has risen enough */
	st->growing_now = in && ep_rise >= material;
	st->now_points = in ? ep_points : 0;
	if (in)
		close_episode(st, &ep_rise, &ep_s, ep_onset, now->end_ts,
		              material);
	st->now_slope = now->slope;
	st->now_se = se[n - 1];
	/* falling now: the current regime falls, by enough */
	st->falling_now =
	    now->kind == LEAK_FALL &&
	    -now->slope * (now->end_ts - now->start_ts) >= material;
	if (st->growing_now && now->kind != LEAK_RISE) {
		st->now_slope = rg[n - 2].slope;
		st->now_se = se[n - 2];
	}
}

static double
median3(double a, double b, double c)
{
	return fmax(fmin(a, b), fmin(fmax(a, b), c));
}

/*
 * A series that moves in steps, most samples the same as the one before
 * (a heap grown and trimmed by pages): within its flat stretches there
 * is no noise, so every step is material and two steps up are episodes.
 * Its noise is its steps.  A heap that wanders within bounds steps either
 * way; a leak steps up more than a walk of the same steps with a coin's
 * signs would (trend_sign_flip_p()).  The steps are the levels it rests
 * at, each sample the median of it and its neighbours (the ends, of the
 * three there): a burst of one sample is an excursion, not two steps.
 */
void
leak_step_walk(const double *y, size_t n, struct story *st)
{
	double *d = malloc(n * sizeof(double)), net = 0, prev, at;
	size_t i, k = 0;

	if (d == NULL || n < 3)
		goto done;
	prev = median3(y[0], y[1], y[2]);
	for (i = 1; i < n; i++, prev = at) {
		at = i + 1 < n ? median3(y[i - 1], y[i], y[i + 1])
		               : median3(y[n - 3], y[n - 2], y[n - 1]);
		if (at != prev) {
			d[k] = at - prev;
			net += d[k++];
		}
	}
	if (k == 0 || 2 * k > n - 1)
		goto done;
	st->steps = k;
	st->steps_net = net;
	st->steps_p = trend_sign_flip_p(d, k);
done:
	free(d);
}

/* The regimes' level at ts (a line's end past it, the first's start
 * before it). */
static double
level_at(const struct leak_regime *rg, size_t n, double ts)
{
	size_t i = 0;

	while (i + 1 < n && rg[i + 1].start_ts <= ts)
		i++;
	if (ts <= rg[i].start_ts)
		return rg[i].level_start;
	if (ts >= rg[i].end_ts)
		return rg[i].level_end;
	return rg[i].level_start + rg[i].slope * (ts - rg[i].start_ts);
}

/* The rise of the first and of the last third of the time judged. */
void
leak_thirds(const struct leak_regime *rg, size_t n, struct story *st)
{
	double a = rg[0].start_ts, d = rg[n - 1].end_ts, third = (d - a) / 3;

	st->third_first = level_at(rg, n, a + third) - level_at(rg, n, a);
	st->third_last = level_at(rg, n, d) - level_at(rg, n, d - third);
}

/*
 * Episodes that come ever less: the rise of the last third of the time
 * at most settle_ratio of the first's, the test of a slowing curve
 * (leak_slowing()) on growth that comes in steps: a heap or a cache filling
 * up, the steps of a leak keep coming.
 */
bool
leak_thinning(const struct story *st, double settle_ratio)
{
	return st->third_first > 0 &&
	       st->third_last <= settle_ratio * st->third_first;
}
