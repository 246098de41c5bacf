// A node process whose heap does what its mode says, for recording with
// rss-watch and judging with leak-classify.
//   node nodeheap.js churn|late-leak [SECONDS]
//   churn      allocates and drops objects: V8's collector keeps it flat
//   late-leak  churns for 40% of the time, then keeps ~1 MB a second
const mode = process.argv[2];
const seconds = Number(process.argv[3] || 10);
const start = Date.now();
const kept = [];

function churn() {
	let junk = [];
	for (let i = 0; i < 20000; i++)
		junk.push({ i, s: "x" + i });
	junk = null;
}

const timer = setInterval(() => {
	const t = (Date.now() - start) / 1000;
	if (t >= seconds) {
		clearInterval(timer);
		return;
	}
	if (mode === "churn" || t < 0.4 * seconds)
		churn();
	else
		kept.push(Buffer.alloc(100 * 1024, 1)); // ~1 MB a second
}, 100);
