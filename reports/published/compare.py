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
]:
    curves = [r["t_visibility"] for r in rows(name)]
    cmd = f"`dynasim sweep scenarios/published/{name}.json --seeds 5`"
    m, h = mean_ci([at(c, 0.0) for c in curves])
    row(f"P(consistent read) at t=0, {note}", t0_pub, PBS, fmt(m, h, pct=True), "", cmd)
    m, h = mean_ci([crossing(c) for c in curves])
    row(f"t for 99.9% consistent reads, {note}", t999_pub, PBS, fmt(m, h, " ms"), "", cmd)


def rw_label(cfg):
    settings = dict(s.split("=", 1) for s in cfg[0]["settings"])
    return f"R={settings['protocol.r']} W={settings['protocol.w']}"


# Table 4: 99.9th-percentile read latency, write latency and t for 99.9% consistent reads, per
# (R, W) in make.sh's order. Section 6.2 gives P(consistent) right after commit for R = W = 1.
TABLE4 = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (1, 3)]
# The WARS model's own figures (wars.py, independent of dynasim), where make.sh wrote them.
wars_file = os.path.join(OUT, "wars-model.json")
wars = json.load(open(wars_file)) if os.path.exists(wars_file) else {}
for profile, t_sweep, latency_sweep, t0_pub, published in [
    ("LNKD-SSD", "pbs-lnkd-ssd", "pbs-lnkd-ssd", "97.4%",
     [(0.66, 0.66, 1.85), (0.66, 1.63, 1.79), (1.63, 0.65, 0), (1.62, 1.64, 0), (4.14, 0.65, 0), (0.65, 4.09, 0)]),
    ("LNKD-DISK", "pbs-lnkd-disk", "pbs-lnkd-disk", "43.9%",
     [(0.66, 10.99, 45.5), (0.65, 20.97, 43.3), (1.63, 10.9, 13.6), (1.64, 20.96, 0), (4.12, 10.89, 0), (0.65, 112.65, 0)]),
    ("YMMR", "pbs-ymmr", "pbs-ymmr-latency", "89.3%",
     [(5.58, 10.83, 1364), (5.61, 427.12, 1352), (32.6, 10.73, 202), (33.18, 428.11, 0), (219.27, 10.79, 0),
      (5.63, 1870.86, 0)]),
    ("WAN", "pbs-wan", "pbs-wan", "33%",
     [(3.4, 55.12, 113), (3.4, 167.64, 0), (151.3, 56.36, 30.2), (151.31, 167.72, 0), (153.86, 55.19, 0),
      (3.44, 241.55, 0)]),
]:
    t_configs, latency_configs = by_config(t_sweep), by_config(latency_sweep)
    assert [rw_label(c) for c in t_configs] == [f"R={r} W={w}" for r, w in TABLE4], t_sweep
    cmd = f"`make.sh`: {t_sweep}" + (f", {latency_sweep}" if latency_sweep != t_sweep else "")
    m, h = mean_ci([at(r["t_visibility"], 0.0) for r in t_configs[0]])
    model = wars.get(f"{profile} R=1 W=1")
    ours = fmt(m, h, pct=True, digits=1) + (f" (WARS model: {100 * model[0]:.1f}%)" if model else "")
    row(f"P(consistent read) at t=0, {profile}, R=W=1", t0_pub, PBS + ", Section 6.2", ours, "", cmd)
    for t_cfg, latency_cfg, (lr, lw, t) in zip(t_configs, latency_configs, published):
        figures = [mean_ci([r["p999_get_ms"] for r in latency_cfg]), mean_ci([r["p999_put_ms"] for r in latency_cfg]),
                   mean_ci([crossing(r["t_visibility"]) for r in t_cfg])]
        digits = 2 if profile.startswith("LNKD") else 1
        ours = " / ".join(fmt(m, h, digits=digits) for m, h in figures) + " ms"
        model = wars.get(f"{profile} {rw_label(t_cfg)}")
        if model:
            ours += f" (WARS model t: {model[1]:g} ms)"
        row(f"p99.9 read / p99.9 write / t for 99.9% consistent reads, {profile}, {rw_label(t_cfg)}",
            f"{lr:g} / {lw:g} / {t:g} ms", PBS + ", Table 4", ours, "", cmd)

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
         "of a 95% interval. For PBS's Table 4, the WARS model's own t (`wars.py`, 400,000 trials, independent of",
         "dynasim) is given beside dynasim's. Scenarios and every modelling choice: `scenarios/published/*.json` (their descriptions).", "",
         "| result | published (source) | dynasim | agreement | regenerate |", "| --- | --- | --- | --- | --- |"]
for result, pub, ours, _, cmd in table:
    lines.append(f"| {result} | {pub} | {ours} | {agreement.get(result, '')} | {cmd} |")
with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
missing = [t[0] for t in table if t[0] not in agreement]
if missing:
    print("no agreement line yet for:\n  " + "\n  ".join(missing), file=sys.stderr)
