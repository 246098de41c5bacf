/*
 * Grisu3 after Florian Loitsch, "Printing Floating-Point Numbers Quickly
 * and Accurately with Integers" (PLDI 2010).  The powers of ten are not a
 * pasted table: dtoa_init() derives each from exact big-integer
 * arithmetic (10^k by multiplication, 2^N / 10^k by repeated division,
 * both exact), rounded to 64 bits as the paper requires.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "dtoa.h"

#define POW_MIN (-348)
#define POW_MAX 340
#define ALPHA   (-60)
#define GAMMA   (-32)

struct diy_fp {
	uint64_t f;
	int e;
};

static struct diy_fp pow10_table[POW_MAX - POW_MIN + 1];
static pthread_once_t pow10_once = PTHREAD_ONCE_INIT;

/* ---- exact big integers, little-endian 32-bit limbs ---------------- */

#define BIG_LIMBS 48 /* 1536 bits: 10^340 and 2^1280 fit */

struct big {
	uint32_t limb[BIG_LIMBS];
	int n;
};

static void
big_mul_small(struct big *b, uint32_t m)
{
	uint64_t carry = 0;
	int i;

	for (i = 0; i < b->n; i++) {
		uint64_t p = (uint64_t)b->limb[i] * m + carry;

		b->limb[i] = (uint32_t)p;
		carry = p >> 32;
	}
	if (carry != 0)
		b->limb[b->n++] = (uint32_t)carry;
}

static void
big_div_small(struct big *b, uint32_t d)
{
	uint64_t rem = 0;
	int i;

	for (i = b->n - 1; i >= 0; i--) {
		uint64_t cur = rem << 32 | b->limb[i];

		b->limb[i] = (uint32_t)(cur / d);
		rem = cur % d;
	}
	while (b->n > 0 && b->limb[b->n - 1] == 0)
		b->n--;
}

static int
big_bits(const struct big *b)
{
	uint32_t top = b->limb[b->n - 1];
	int bits = (b->n - 1) * 32;

	while (top != 0) {
		bits++;
		top >>= 1;
	}
	return bits;
}

static int
big_bit(const struct big *b, int i)
{
	return (int)(b->limb[i / 32] >> (i % 32) & 1);
}

/* The top 64 bits of b, rounded to nearest, as f * 2^e with b ~ value *
 * 2^scale. */
static struct diy_fp
big_top64(const struct big *b, int scale)
{
	int bits = big_bits(b), i;
	struct diy_fp r = {0, bits - 64 - scale};

	for (i = bits - 1; i >= bits - 64; i--)
		r.f = r.f << 1 | (uint64_t)(i >= 0 ? big_bit(b, i) : 0);
	if (bits > 64 && big_bit(b, bits - 65)) { /* half up */
		if (++r.f == 0) {
			r.f = 1ULL << 63;
			r.e++;
		}
	}
	return r;
}

static void
pow10_init(void)
{
	static struct big b;
	int k, scale = 1280;

	memset(&b, 0, sizeof(b));
	b.limb[0] = 1;
	b.n = 1;
	for (k = 0; k <= POW_MAX; k++) {
		pow10_table[k - POW_MIN] = big_top64(&b, 0);
		big_mul_small(&b, 10);
	}
	/* 2^1280 / 10^k for k >= 1: still far more than 64 bits at k=348. */
	memset(&b, 0, sizeof(b));
	b.limb[scale / 32] = 1;
	b.n = scale / 32 + 1;
	for (k = 1; k <= -POW_MIN; k++) {
		big_div_small(&b, 10);
		pow10_table[-k - POW_MIN] = big_top64(&b, scale);
	}
}

/* ---- Grisu3 --------------------------------------------------------- */

static struct diy_fp
diy_mul(struct diy_fp x, struct diy_fp y)
{
	uint64_t a = x.f >> 32, b = x.f & 0xffffffffu;
	uint64_t c = y.f >> 32, d = y.f & 0xffffffffu;
	uint64_t ac = a * c, bc = b * c, ad = a * d, bd = b * d;
	uint64_t tmp = (bd >> 32) + (ad & 0xffffffffu) + (bc & 0xffffffffu);
	struct diy_fp r;

	tmp += 1U << 31; /* round */
	r.f = ac + (ad >> 32) + (bc >> 32) + (tmp >> 32);
	r.e = x.e + y.e + 64;
	return r;
}

static struct diy_fp
diy_normalize(struct diy_fp x)
{
	int shift = __builtin_clzll(x.f); /* x.f is never 0 here */

	x.f <<= shift;
	x.e -= shift;
	return x;
}

/* v and its rounding boundaries m- and m+, all with m+'s exponent. */
static void
boundaries(double v, struct diy_fp *w, struct diy_fp *lo, struct diy_fp *hi)
{
	uint64_t bits, frac;
	int bexp;
	struct diy_fp x;

	memcpy(&bits, &v, sizeof(bits));
	frac = bits & ((1ULL << 52) - 1);
	bexp = (int)(bits >> 52 & 0x7ff);
	if (bexp != 0) {
		x.f = frac | 1ULL << 52;
		x.e = bexp - 1075;
	} else {
		x.f = frac;
		x.e = -1074;
	}
	*hi = diy_normalize((struct diy_fp){(x.f << 1) + 1, x.e - 1});
	/* At a power of two the gap below is half the gap above. */
	if (frac == 0 && bexp > 1)
		*lo = (struct diy_fp){(x.f << 2) - 1, x.e - 2};
	else
		*lo = (struct diy_fp){(x.f << 1) - 1, x.e - 1};
	lo->f <<= lo->e - hi->e;
	lo->e = hi->e;
	*w = diy_normalize(x);
}

static int
round_weed(char *buf, int len, uint64_t dist_high_w, uint64_t unsafe,
           uint64_t rest, uint64_t ten_kappa, uint64_t unit)
{
	uint64_t small = dist_high_w - unit, big = dist_high_w + unit;

	while (rest < small && unsafe - rest >= ten_kappa &&
	       (rest + ten_kappa < small ||
	        small - rest >= rest + ten_kappa - small)) {
		buf[len - 1]--;
		rest += ten_kappa;
	}
	if (rest < big && unsafe - rest >= ten_kappa &&
	    (rest + ten_kappa < big || big - rest > rest + ten_kappa - big))
		return 0;
	return 2 * unit <= rest && rest <= unsafe - 4 * unit;
}

/*
 * The leading digit of x, which has kappa digits, taken off x.  Constant
 * divisors, because the compiler turns them into multiplications: a
 * hardware division per digit was most of the time spent here.
 */
static inline uint32_t
split_digit(uint32_t *x, int kappa)
{
	uint32_t d;

#define SPLIT(p)                                                               \
	d = *x / (p);                                                          \
	*x %= (p);                                                             \
	return d
	switch (kappa) {
	case 10:
		SPLIT(1000000000u);
	case 9:
		SPLIT(100000000u);
	case 8:
		SPLIT(10000000u);
	case 7:
		SPLIT(1000000u);
	case 6:
		SPLIT(100000u);
	case 5:
		SPLIT(10000u);
	case 4:
		SPLIT(1000u);
	case 3:
		SPLIT(100u);
	case 2:
		SPLIT(10u);
	default:
		d = *x;
		*x = 0;
		return d;
	}
#undef SPLIT
}

static int
digit_gen(struct diy_fp lo, struct diy_fp w, struct diy_fp hi, char *buf,
          int *kappa_out)
{
	static const uint32_t pow10_u32[] = {
	    1,      10,      100,      1000,      10000,
	    100000, 1000000, 10000000, 100000000, 1000000000};
	uint64_t unit = 1, unsafe = (hi.f + unit) - (lo.f - unit);
	uint64_t too_high = hi.f + unit;
	int shift = -w.e, len = 0, kappa = 10;
	uint64_t one = 1ULL << shift;
	uint32_t integrals = (uint32_t)(too_high >> shift);
	uint64_t fractionals = too_high & (one - 1);

	while (kappa > 0 && pow10_u32[kappa - 1] > integrals)
		kappa--;
	while (kappa > 0) {
		uint32_t div = pow10_u32[kappa - 1];
		uint64_t rest;

		buf[len++] = (char)('0' + split_digit(&integrals, kappa));
		kappa--;
		rest = ((uint64_t)integrals << shift) + fractionals;
		if (rest < unsafe) {
			*kappa_out = kappa;
			return round_weed(buf, len, too_high - w.f, unsafe,
			                  rest, (uint64_t)div << shift, unit)
			           ? len
			           : 0;
		}
	}
	for (;;) {
		fractionals *= 10;
		unit *= 10;
		unsafe *= 10;
		buf[len++] = (char)('0' + (fractionals >> shift));
		fractionals &= one - 1;
		kappa--;
		if (fractionals < unsafe) {
			*kappa_out = kappa;
			return round_weed(buf, len, (too_high - w.f) * unit,
			                  unsafe, fractionals, one, unit)
			           ? len
			           : 0;
		}
		if (len >= 18)
			return 0;
	}
}

int
dtoa_shortest(double v, char digits[18], int *point)
{
	struct diy_fp w, lo, hi, c;
	int k, kappa = 0, len;

	static volatile int ready;

	if (!ready) { /* the once-call costs more than a flag, per value */
		pthread_once(&pow10_once, pow10_init);
		ready = 1;
	}
	boundaries(v, &w, &lo, &hi);
	/* Pick 10^k so that the scaled exponent lands in [ALPHA, GAMMA]. */
	k = (int)((ALPHA - hi.e - 64 + 63) * 0.30102999566398114);
	if (k < POW_MIN || k > POW_MAX)
		return 0;
	c = pow10_table[k - POW_MIN];
	while (c.e + hi.e + 64 < ALPHA && k < POW_MAX)
		c = pow10_table[++k - POW_MIN];
	while (c.e + hi.e + 64 > GAMMA && k > POW_MIN)
		c = pow10_table[--k - POW_MIN];
	if (c.e + hi.e + 64 < ALPHA || c.e + hi.e + 64 > GAMMA)
		return 0;
	len = digit_gen(diy_mul(lo, c), diy_mul(w, c), diy_mul(hi, c), digits,
	                &kappa);
	while (len > 1 && digits[len - 1] == '0') {
		len--;
		kappa++;
	}
	if (len == 0 || len > 17)
		return 0;
	/* digits x 10^(kappa - k) = 0.digits x 10^point */
	*point = len + kappa - k;
	return len;
}

int
dtoa_format(char *buf, int negative, const char *digits, int ndigits, int point)
{
	int x = point - 1, p = ndigits < 15 ? 15 : ndigits, n = 0, i;

	if (negative)
		buf[n++] = '-';
	if (x < -4 || x >= p) {
		buf[n++] = digits[0];
		if (ndigits > 1) {
			buf[n++] = '.';
			memcpy(buf + n, digits + 1, (size_t)ndigits - 1);
			n += ndigits - 1;
		}
		buf[n++] = 'e';
		buf[n++] = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		if (x >= 100)
			buf[n++] = (char)('0' + x / 100);
		buf[n++] = (char)('0' + x / 10 % 10);
		buf[n++] = (char)('0' + x % 10);
	} else if (point <= 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (i = point; i < 0; i++)
			buf[n++] = '0';
		memcpy(buf + n, digits, (size_t)ndigits);
		n += ndigits;
	} else {
		for (i = 0; i < point; i++)
			buf[n++] = i < ndigits ? digits[i] : '0';
		if (ndigits > point) {
			buf[n++] = '.';
			memcpy(buf + n, digits + point,
			       (size_t)(ndigits - point));
			n += ndigits - point;
		}
	}
	buf[n] = '\0';
	return n;
}
