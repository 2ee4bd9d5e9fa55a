#!/usr/bin/env python3
"""Writes reports/published/README.md: each published result beside dynasim's figure.

Reads the sweeps make.sh wrote (results.json: one row per configuration and seed). dynasim's
figure is the mean over seeds with a 95% interval (Student's t); a t-visibility threshold is
found per seed by interpolating log(1 - P) between the probe delays that bracket it.
"""
import json, math, os, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__)
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def rows(name):
    with open(os.path.join(OUT, name, "results.json")) as f:
        return [r for r in json.load(f)["rows"] if "skipped" not in r]


def by_config(name):
    out = {}
    for r in rows(name):
        out.setdefault(r["config"], []).append(r)
    return [out[k] for k in sorted(out)]


def mean_ci(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(xs) / n
    if n < 2:
        return m, 0.0
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, T95.get(n - 1, 1.96) * sd / math.sqrt(n)


def at(curve, t):
    return next(p for (ti, p) in curve if abs(ti - t) < 1e-9)


def crossing(curve, level=0.999):
    """The delay at which P(consistent) first reaches `level`, log-interpolated."""
    prev = None
    for t, p in curve:
        if p >= level:
            if prev is None:
                return t
            (t0, p0) = prev
            q0, q1, q = math.log(1 - p0), math.log(max(1 - p, 1e-12)), math.log(1 - level)
            return t0 + (t - t0) * (q - q0) / (q1 - q0) if q1 != q0 else t
        prev = (t, p)
    return None


def fmt(m, h, unit="", digits=2, pct=False):
    if m is None or math.isnan(m):
        return "n/a"
    if pct:
        return f"{100 * m:.{digits}f}% ± {100 * h:.{digits}f}"
    return f"{m:.{digits}f}{unit} ± {h:.{digits}f}"


table = []


def row(result, published, source, ours, agreement, command):
    table.append((result, f"{published} ({source})", ours, agreement, command))


PBS = "Bailis et al., VLDB 2012"
for name, t0_pub, t999_pub, note in [
    ("pbs-exponential", "≈41%", "≈65 ms", "Section 5 synthetic, W mean 10 ms"),
    ("pbs-exponential-fast-writes", "≈94%", "≈1 ms", "Section 5 synthetic, W mean 0.25 ms"),
    ("pbs-lnkd-ssd", None, "1.85 ms", "LNKD-SSD, R=W=1"),
    ("pbs-lnkd-disk", "43.9%", "45.5 ms", "LNKD-DISK, R=W=1"),
]:
    runs = rows(name)
    curves = [r["t_visibility"] for r in runs]
    cmd = f"`dynasim sweep scenarios/published/{name}.json --seeds 5`"
    if t0_pub:
        m, h = mean_ci([at(c, 0.0) for c in curves])
        row(f"P(consistent read) at t=0, {note}", t0_pub, PBS, fmt(m, h, pct=True), "", cmd)
    m, h = mean_ci([crossing(c) for c in curves])
    row(f"t for 99.9% consistent reads, {note}", t999_pub, PBS, fmt(m, h, " ms"), "", cmd)

for cfg, pub in zip(by_config("pbs-ymmr"), ["1364 ms", "202 ms"]):
    rw = " ".join(s.split(".")[-1] for s in cfg[0]["settings"] if "protocol" in s)
    m, h = mean_ci([crossing(r["t_visibility"]) for r in cfg])
    row(f"t for 99.9% consistent reads, YMMR, {rw}", pub, PBS, fmt(m, h, " ms", 0), "", "`make.sh`: pbs-ymmr")
for cfg, pub in zip(by_config("pbs-ymmr-latency"), ["16.4 ms", "43.3 ms", "230 ms"]):
    rw = " ".join(s.split(".")[-1] for s in cfg[0]["settings"] if s.startswith("protocol"))
    m, h = mean_ci([r["p999_get_ms"] + r["p999_put_ms"] for r in cfg])
    row(f"p99.9 read + p99.9 write latency, YMMR, {rw}", pub, PBS, fmt(m, h, " ms", 1), "", "`make.sh`: pbs-ymmr-latency")
m, h = mean_ci([crossing(r["t_visibility"]) for r in rows("pbs-wan")])
row("t for 99.9% consistent reads, WAN (LNKD-DISK, 75 ms between datacenters)", "not quoted here", PBS, fmt(m, h, " ms", 1), "", "`make.sh`: pbs-wan")

server, client = by_config("dynamo-coordination")
for metric, label, pub in [("mean_get_ms", "mean read", "3.9 → 1.55 ms"), ("mean_put_ms", "mean write", "4.02 → 1.9 ms"),
                           ("p999_get_ms", "p99.9 read", "68.9 → 30.4 ms"), ("p999_put_ms", "p99.9 write", "68.5 → 30.4 ms")]:
    (ms, hs), (mc, hc) = mean_ci([r[metric] for r in server]), mean_ci([r[metric] for r in client])
    row(f"server- → client-driven coordination, {label}", pub, "DeCandia et al., SOSP 2007, Table 2",
        f"{fmt(ms, hs, ' ms')} → {fmt(mc, hc, ' ms')}", "", "`make.sh`: dynamo-coordination")

for cfg in by_config("dynamo-divergent-versions"):
    e = cfg[0]["settings"][-1].split("=")[1]
    m, h = mean_ci([r["one_version_read_fraction"] for r in cfg])
    row(f"reads that see one version, carts, Zipf exponent {e}", "99.94%", "DeCandia et al., SOSP 2007, Section 6.3",
        fmt(m, h, pct=True), "", "`make.sh`: dynamo-divergent-versions")

durable, buffered = by_config("dynamo-buffered-writes")
(md, hd), (mb, hb) = mean_ci([r["p999_put_ms"] for r in durable]), mean_ci([r["p999_put_ms"] for r in buffered])
row("p99.9 write latency, durable → buffered", "several times lower (about 5×)", "DeCandia et al., SOSP 2007, Figure 5",
    f"{fmt(md, hd, ' ms', 1)} → {fmt(mb, hb, ' ms', 1)}", "", "`make.sh`: dynamo-buffered-writes")

for name, label, pubs in [("jepsen-set-add", "healthy cluster", ["71.7%", "0%"]), ("jepsen-set-add-partition", "partition", ["about 91%", "0%"])]:
    for cfg, pub in zip(by_config(name), pubs):
        policy = cfg[0]["settings"][-1].split("=")[1]
        m, h = mean_ci([r["lost_add_fraction"] for r in cfg])
        row(f"acknowledged adds lost, {label}, {policy}", pub, "Jepsen, Call me maybe: Riak, 2013", fmt(m, h, pct=True, digits=1), "",
            f"`make.sh`: {name}")

configs = by_config("dynamo-partitioning")
for k in range(0, len(configs), 3):
    s1, s2, s3 = (mean_ci([1 / r["requests_max_over_mean"] for r in c]) for c in configs[k:k + 3])
    meta = configs[k][0]["metadata_entries_per_node"]
    row(f"load-balancing efficiency, strategies 1 / 2 / 3, {meta:.0f} metadata entries per node", "3 best, 2 worst",
        "DeCandia et al., SOSP 2007, Figure 8", " / ".join(fmt(m, h, digits=3) for m, h in (s1, s2, s3)), "",
        "`make.sh`: dynamo-partitioning")

for cfg in by_config("dynamo-load-imbalance"):
    rate = cfg[0]["settings"][-1].split("=")[1]
    m, h = mean_ci([r["out_of_balance_fraction"] for r in cfg])
    row(f"nodes out of balance (more than 15% from the mean), {rate} requests/s", "about 20% at low load, 10% at high",
        "DeCandia et al., SOSP 2007, Figure 6", fmt(m, h, pct=True, digits=1), "", "`make.sh`: dynamo-load-imbalance")

# One line per result saying whether they agree and why not: written by a person, in
# agreement.json, after reading the figures (a line cannot be computed from them).
agreement_file = os.path.join(OUT, "agreement.json")
agreement = json.load(open(agreement_file)) if os.path.exists(agreement_file) else {}
lines = ["# Published results, reproduced", "",
         "Regenerate with `bash reports/published/make.sh` (about 20 minutes on two cores). Each result's folder holds its",
         "sweep (results.json, results.csv), charts and index.html. dynasim's figure: mean over 5 seeds ± the half-width",
         "of a 95% interval. Scenarios and every modelling choice: `scenarios/published/*.json` (their descriptions).", "",
         "| result | published (source) | dynasim | agreement | regenerate |", "| --- | --- | --- | --- | --- |"]
for result, pub, ours, _, cmd in table:
    lines.append(f"| {result} | {pub} | {ours} | {agreement.get(result, '')} | {cmd} |")
with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
missing = [t[0] for t in table if t[0] not in agreement]
if missing:
    print("no agreement line yet for:\n  " + "\n  ".join(missing), file=sys.stderr)
