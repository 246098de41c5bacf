/*
 * Bursts that leave memory behind: a floor that rises with each burst.
 * Read off the regimes: plateaus (regimes whose levels lie within the
 * material amount of each other, with no real step between), the floors
 * among them (lower than their neighbours by more than it) and the peaks
 * between the floors.  A burst keeps what the floor after it stands above
 * the floor before.
 */
#include <math.h>
#include <string.h>

#include "leak.h"

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
	size_t k, i, floors = 0, kept_all = 0;
	double prev = NAN, prev_ts = NAN;

	memset(out, 0, sizeof(*out));
	if (n > sizeof(pl) / sizeof(pl[0]))
		return 0;
	k = plateaus(rg, n, material, pl);
	for (i = 0; i < k; i++) {
		if (!is_floor(pl, k, i, material))
			continue;
		if (floors++ == 0) {
			out->floor_from = pl[i].level;
			out->first_ts = pl[i].end_ts;
		} else {
			/* a burst between prev and this floor */
			out->bursts++;
			kept_all += pl[i].level - prev > material;
			out->kept += pl[i].level - prev;
		}
		prev = pl[i].level;
		prev_ts = pl[i].start_ts;
	}
	out->floor_to = prev;
	out->last_ts = prev_ts;
	/* every burst kept more than the noise */
	out->keeps = out->bursts > 0 && kept_all == out->bursts;
	return out->bursts;
}
