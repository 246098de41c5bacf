/*
 * Bursts that leave memory behind: a floor that rises with each burst.
 * Read off the regimes: plateaus (regimes whose levels lie within the
 * material amount of each other, with no real step between), the floors
 * among them (lower than their neighbours by more than it) and the peaks
 * between the floors.  A burst keeps what the floor after it stands above
 * the floor before.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "trend.h"

/*
 * Bursts that keep memory: LEAK_BURSTS_KEEP or more that each left the
 * floor higher by more than the noise, and three times as many as left it
 * lower (an allocator may take one burst's memory from a hole the last
 * one left).
 */
static bool
keeps(size_t up, size_t down)
{
	return up >= LEAK_BURSTS_KEEP && up >= 3 * down;
}

struct plateau {
	double level, start_ts, end_ts, weight;
};

/* The regimes merged into plateaus (sign-adjusted levels); how many. */
static size_t
plateaus(const struct leak_regime *rg, size_t n, double material,
         struct plateau *pl)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		const struct leak_regime *x = &rg[i];
		double level = (x->level_start + x->level_end) / 2;
		double w = fmax(x->end_ts - x->start_ts, 1);

		if (k > 0 && !x->jump_significant &&
		    fabs(level - pl[k - 1].level) < material) {
			struct plateau *p = &pl[k - 1];

			p->level = (p->level * p->weight + level * w) /
			           (p->weight + w);
			p->weight += w;
			p->end_ts = x->end_ts;
			continue;
		}
		pl[k++] = (struct plateau){level, x->start_ts, x->end_ts, w};
	}
	return k;
}

/* A floor: lower than each neighbour it has by more than material. */
static bool
is_floor(const struct plateau *pl, size_t k, size_t i, double material)
{
	return (i == 0 || pl[i - 1].level - pl[i].level > material) &&
	       (i + 1 == k || pl[i + 1].level - pl[i].level > material);
}

size_t
leak_bursts(const struct leak_regime *rg, size_t n, double material,
            struct leak_burst_story *out)
{
	struct plateau pl[LEAK_MAX_REGIMES * 16];
	size_t k, i, floors = 0, up = 0, down = 0;
	double prev = NAN, prev_ts = NAN, at_floor = 0, from = NAN;

	memset(out, 0, sizeof(*out));
	if (n > sizeof(pl) / sizeof(pl[0]))
		return 0;
	k = plateaus(rg, n, material, pl);
	for (i = 0; i < k; i++) {
		if (!is_floor(pl, k, i, material))
			continue;
		at_floor += pl[i].end_ts - pl[i].start_ts;
		if (floors++ == 0) {
			out->floor_from = pl[i].level;
			out->first_ts = pl[i].end_ts;
			from = pl[i].start_ts;
		} else {
			/* a burst between prev and this floor */
			out->bursts++;
			up += pl[i].level - prev > material;
			down += pl[i].level - prev < -material;
			out->kept += pl[i].level - prev;
		}
		prev = pl[i].level;
		prev_ts = pl[i].start_ts;
	}
	out->floor_to = prev;
	out->last_ts = prev_ts;
	out->end_ts = rg[n - 1].end_ts;
	/* bursts are excursions: most of the time from the first floor to
	 * the last is on floors */
	out->keeps = keeps(up, down) && 2 * at_floor >= pl[k - 1].end_ts - from;
	return out->bursts;
}

/* ---- bursts too short for a regime of their own ------------------------ */

/*
 * Bursts as jumps: a rise between two points over six robust sds of the
 * step-to-step changes starts one, carrying half its rise or more in one
 * jump (a ramp that drops is a sawtooth's tooth), and a fall as large
 * ends it; the stretches between are the floors, each at its median.  A
 * burst counts between two floors of two points or more, and bursts are
 * excursions: the series spends most of its time on the floors.  What a
 * burst keeps must be more than the noise: three robust sds of the
 * floors' points about their medians, and a hundredth of the bursts'
 * median height.
 */
struct floor {
	double level, start_ts, end_ts;
	double height; /* of the burst before it, above the floor before */
};

/* The floors between bursts into fl; how many, or 0 when a burst rose
 * more in a ramp than in its jumps (a sawtooth's tooth, not a burst). */
static size_t
floors_of(const double *t, const double *y, size_t n, double jump,
          double *scratch, double *dev, size_t *ndev, struct floor *fl)
{
	size_t i, j, a = 0, k = 0;
	double base = 0, peak = 0, top_jump = 0, height = 0;
	bool in_burst = false;

	for (i = 0; i < n; i++) {
		double d = i + 1 < n ? y[i + 1] - y[i] : 0;

		if (in_burst) {
			peak = fmax(peak, y[i]);
			top_jump = fmax(top_jump, d);
			if (d < -jump) {
				if (top_jump < 0.5 * (peak - base))
					return 0;
				in_burst = false;
				a = i + 1;
				height = peak - base;
			}
			continue;
		}
		if (d <= jump && i + 1 < n)
			continue;
		if (i + 1 - a >= 2) { /* the floor [a, i] */
			memcpy(scratch, y + a, (i + 1 - a) * sizeof(double));
			fl[k] = (struct floor){trend_median(scratch, i + 1 - a),
			                       t[a], t[i], height};
			for (j = a; j <= i; j++)
				dev[(*ndev)++] = fabs(y[j] - fl[k].level);
			k++;
		}
		in_burst = d > jump;
		base = peak = y[i];
		top_jump = d;
	}
	return k;
}

size_t
leak_bursts_of(const double *t, const double *y, size_t n,
               struct leak_burst_story *out)
{
	double *d, *dev, *scratch, jump, noise, at_floor = 0, in_bursts = 0;
	struct floor *fl;
	size_t i, k, ndev = 0, up = 0, down = 0;

	memset(out, 0, sizeof(*out));
	if (n < 12 || (d = malloc(3 * n * sizeof(double))) == NULL)
		return 0;
	if ((fl = malloc(n * sizeof(*fl))) == NULL) {
		free(d);
		return 0;
	}
	dev = d + n;
	scratch = dev + n;
	for (i = 0; i + 1 < n; i++)
		d[i] = y[i + 1] - y[i];
	memcpy(scratch, d, (n - 1) * sizeof(double));
	jump = trend_median(scratch, n - 1);
	for (i = 0; i + 1 < n; i++)
		scratch[i] = fabs(d[i] - jump);
	jump = 6 * 1.4826 * trend_median(scratch, n - 1);
	if (!(jump > 0))
		jump =
		    1e-9 * (fabs(y[0]) + 1); /* steps of a quantised series */
	k = floors_of(t, y, n, jump, scratch, dev, &ndev, fl);
	/* the floors' spread, and a hundredth of the bursts' height: what an
	 * allocator's bookkeeping of a burst that size keeps */
	for (i = 1; i < k; i++)
		scratch[i - 1] = fl[i].height;
	noise = fmax(ndev > 0 ? 3 * 1.4826 * trend_median(dev, ndev) : jump,
	             k > 1 ? 0.01 * trend_median(scratch, k - 1) : 0);
	for (i = 1; i < k; i++) {
		up += fl[i].level - fl[i - 1].level > noise;
		down += fl[i].level - fl[i - 1].level < -noise;
		at_floor += fl[i].end_ts - fl[i].start_ts;
		in_bursts += fl[i].start_ts - fl[i - 1].end_ts;
	}
	/* bursts are excursions: most of the time is spent on the floors
	 * (else the floors are a sawtooth's troughs, its own view's) */
	if (k >= 2 && at_floor + fl[0].end_ts - fl[0].start_ts >= in_bursts) {
		out->bursts = k - 1;
		out->kept = fl[k - 1].level - fl[0].level;
		out->floor_from = fl[0].level;
		out->floor_to = fl[k - 1].level;
		out->first_ts = fl[0].end_ts;
		out->last_ts = fl[k - 1].start_ts;
		out->end_ts = t[n - 1];
		out->keeps = keeps(up, down);
	}
	free(fl);
	free(d);
	return out->bursts;
}

bool
leak_bursts_stopped(const struct leak_burst_story *b, double alpha)
{
	double spacing = (b->last_ts - b->first_ts) / (double)b->bursts;

	return b->bursts > 0 &&
	       b->end_ts - b->last_ts > spacing * log(1 / alpha);
}
