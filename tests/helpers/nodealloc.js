// A node process whose V8 heap does what its mode says, for the real
// allocator corpus (tests/bench/realcorpus.py): its truth is in how it is
// written.  Only leak and leak-late keep what they cannot reach again.
//   node nodealloc.js MODE [SECONDS] [SEED]
//   churn      objects and strings made and dropped; a bounded window of
//              them lives, sized by the seed
//   settle     a Map cache that fills to its bound, then is replaced in
//   leak       churn, and 20 to 160 KB a second kept for good
//   leak-late  churn; the leak starts after a third of the time
const mode = process.argv[2];
const seconds = Number(process.argv[3] || 60);
let seed = Number(process.argv[4] || 1);
function random() { // mulberry32: a seed gives one run
	seed = (seed + 0x6d2b79f5) | 0;
	let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
	t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const rateKb = 20 * 8 ** random();
const window = 40 + Math.floor(random() * 360);
const bound = 2000 + Math.floor(random() * 6000);
const start = Date.now();
const recent = [], kept = [], cache = new Map();
console.error("params: rate_kb=" + rateKb.toFixed(3));
let last = start;

function churn() {
	const o = [];
	for (let i = 0, n = 50 + Math.floor(random() * 250); i < n; i++)
		o.push({ k: "k" + random(), v: new Array(1 + Math.floor(random() * 40)).fill(i) });
	recent.push(o);
	if (recent.length > window)
		recent.splice(Math.floor(random() * recent.length), 1);
}

const timer = setInterval(() => {
	const now = Date.now(), t = (now - start) / 1000;
	if (t >= seconds) {
		clearInterval(timer);
		return;
	}
	if (mode === "settle") {
		for (let i = 0; i < 20; i++) {
			const key = t < seconds / 3 ? Math.floor(random() * 1e6) : Math.floor(random() * bound);
			if (!cache.has(key)) {
				if (cache.size >= bound)
					cache.delete(cache.keys().next().value);
				cache.set(key, "v".repeat(200 + Math.floor(random() * 800)));
			}
		}
	} else {
		churn();
	}
	if (mode === "leak" || (mode === "leak-late" && t >= seconds / 3)) {
		const n = Math.floor(rateKb * (now - last) / 1000 * 1024 / 100);
		for (let i = 0; i < n; i++)
			kept.push("x".repeat(60) + random());
	}
	last = now;
}, 20);
