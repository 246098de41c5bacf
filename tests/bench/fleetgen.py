#!/usr/bin/python3
# Records of HOSTS devices x SAMPLES, one a minute, interleaved, with a
# clock skew per device; the hosts listed (gx<N>) leak 4 KiB a sample.
#   fleetgen.py HOSTS SAMPLES LEAKING[,..] [SEED]
import random, sys
hosts = int(sys.argv[1]); samples = int(sys.argv[2]); leak = set(int(x) for x in sys.argv[3].split(',') if x)
random.seed(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
t0 = 1.7e9
out = sys.stdout
for i in range(samples):
    for h in range(hosts):
        v = 30000 + random.gauss(0, 150) + (i * 4 if h in leak else 0)
        skew = h * 7.3
        out.write('{"ts":%.1f,"src":"rss-watch","host":"gx%d","pid":%d,"start":5,"comm":"python3","rss_kb":%d,"anon_kb":%d}\n' % (t0 + skew + 60 * i, h, 100 + h, v + 20000, v))
