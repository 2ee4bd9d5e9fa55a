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


# Charts: one SVG per family of results, the published figure (open diamond) beside dynasim's
# mean (dot) and its 95% interval (whisker), one row per result. Written by hand so that the
# folder regenerates with python3 alone. Where figures span decades and agree closely, the chart
# shows dynasim's figure divided by the published one ("ratio"), so a 5% gap is visible.
CHARTS = {
    "pbs-consistent-at-commit": ("PBS: P(consistent read) right after the write commits", "%"),
    "pbs-t-visibility": ("PBS: t for 99.9% consistent reads (rows where it is not 0)", "ratio"),
    "pbs-table4-latency": ("PBS Table 4: 99.9th-percentile latency", "ratio"),
    "dynamo-coordination": ("Dynamo Table 2: server- vs client-driven coordination", "ms"),
    "dynamo-divergent-versions": ("Dynamo 6.3: reads that see one version", "%"),
    "dynamo-buffered-writes": ("Dynamo Figure 5: p99.9 write latency (the paper gives a ratio, about 5x)", "ms"),
    "jepsen-lost-adds": ("Jepsen, Riak: acknowledged adds lost", "%"),
    "dynamo-partitioning": ("Dynamo Figure 8: load-balancing efficiency (mean / hottest node)", ""),
    "dynamo-bootstrapping": ("Dynamo 6.2: time to add a node, strategy 1 (random tokens) and 3 (equal partitions)", "ms"),
    "dynamo-load-imbalance": ("Dynamo Figure 6: nodes more than 15% from the mean load (the paper draws a day's curve)", "%"),
    "dynamo-diurnal-latency": ("Dynamo Figure 4: p99.9 latency over the mean, at night and at the peak", ""),
}
charted = {name: [] for name in CHARTS}


def plot(chart, label, published, m, h, model=None):
    """Adds a row to a chart; `published` is None where the paper gives no number; `model` is
    the WARS model's own figure where there is one."""
    unit = CHARTS[chart][1]
    if unit == "ratio":
        charted[chart].append((f"{label} ({published:g})", 1.0, m / published, h / published,
                               None if model is None else model / published))
        return
    scale = 100 if unit == "%" else 1
    charted[chart].append((label, None if published is None else published * scale, m * scale, h * scale,
                           None if model is None else model * scale))


def ticks(lo, hi):
    raw = (hi - lo) / 5
    step = min((f * 10 ** math.floor(math.log10(raw)) for f in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
    return [k * step for k in range(math.floor(lo / step), math.ceil(hi / step) + 1)]


def tick_label(v, step_digits):
    return f"{v:g}" if abs(v) >= 1e4 or (v and abs(v) < 1e-3) else f"{v:.{step_digits}f}"


def esc(t):
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_chart(name, title, unit, items):
    drawable = [it for it in items if not math.isnan(it[2])]
    left_out = [it[0] for it in items if it not in drawable]
    values = [v for (_, p, m, h, model) in drawable for v in (p, m - h, m + h, model) if v is not None]
    if unit == "%":
        values = [min(max(v, 0), 100) for v in values]
    lo, hi = min(values), max(values)
    if unit == "ratio":
        lo, hi = min(lo, 0.9), max(hi, 1.1)
    elif 0 <= lo < 0.3 * hi:
        lo = 0.0  # near zero anyway: the axis starts there
    pad = (hi - lo) * 0.05 or 1.0
    lo, hi = (lo if lo == 0 else lo - pad), hi + pad
    marks = [v for v in ticks(lo, hi) if lo <= v <= hi]
    step = marks[1] - marks[0] if len(marks) > 1 else 1
    digits = 0 if step >= 1 else max(0, -math.floor(math.log10(step) + 1e-9))
    width, label_w, right, top, row_h = 900, 420, 30, 70, 22
    plot_w = width - label_w - right
    height = top + row_h * len(drawable) + 60 + (18 if left_out else 0)

    def x(v):
        return label_w + plot_w * (v - lo) / (hi - lo)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="DejaVu Sans, sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="22" font-size="15" font-weight="bold">{esc(title)}</text>',
           '<circle cx="126" cy="42" r="4" fill="#1f4e9c"/>',
           '<line x1="116" y1="42" x2="136" y2="42" stroke="#1f4e9c"/>',
           '<text x="142" y="46">dynasim, mean and 95% interval over seeds</text>']
    if any(it[1] is not None for it in drawable):
        out += ['<path d="M10 42 l6 -6 l6 6 l-6 6 z" fill="none" stroke="#c0392b" stroke-width="1.6"/>',
                '<text x="28" y="46">published</text>']
    if any(it[4] is not None for it in drawable):
        out += ['<path d="M420 47 l5 -9 l5 9 z" fill="#2e8b57"/>', '<text x="436" y="46">WARS model (wars.py, independent of dynasim)</text>']
    bottom = top + row_h * len(drawable)
    for v in marks:
        out.append(f'<line x1="{x(v):.1f}" y1="{top - 6}" x2="{x(v):.1f}" y2="{bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{x(v):.1f}" y="{bottom + 16}" text-anchor="middle">{tick_label(v, digits)}</text>')
    axis = "dynasim ÷ published (the published figure in brackets)" if unit == "ratio" else unit
    if axis:
        out.append(f'<text x="{label_w + plot_w / 2:.0f}" y="{bottom + 36}" text-anchor="middle">{esc(axis)}</text>')
    for i, (label, p, m, h, model) in enumerate(drawable):
        y = top + row_h * i + row_h / 2
        out.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>')
        # A percentage's t interval can pass 0 or 100%; the whisker stops there.
        low, high = (max(m - h, 0), min(m + h, 100)) if unit == "%" else (m - h, m + h)
        out.append(f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" y2="{y:.1f}" stroke="#1f4e9c" stroke-width="2"/>')
        out.append(f'<circle cx="{x(m):.1f}" cy="{y:.1f}" r="4" fill="#1f4e9c"/>')
        if p is not None:
            out.append(f'<path d="M{x(p) - 6:.1f} {y:.1f} l6 -6 l6 6 l-6 6 z" fill="none" stroke="#c0392b" stroke-width="1.6"/>')
        if model is not None:
            out.append(f'<path d="M{x(model) - 5:.1f} {y + 5:.1f} l5 -9 l5 9 z" fill="#2e8b57" fill-opacity="0.8"/>')
    if left_out:
        out.append(f'<text x="10" y="{height - 8}">Not drawn (no figure): {esc(", ".join(left_out))}</text>')
    out.append("</svg>")
    os.makedirs(os.path.join(OUT, "charts"), exist_ok=True)
    with open(os.path.join(OUT, "charts", f"{name}.svg"), "w") as f:
        f.write("\n".join(out) + "\n")


table = []


def row(result, published, source, ours, agreement, command, chart):
    table.append((result, f"{published} ({source})", ours, agreement, command, chart))


PBS = "Bailis et al., VLDB 2012"
for name, t0_pub, t999_pub, note in [
    ("pbs-exponential", 0.41, 65, "Section 5 synthetic, W mean 10 ms"),
    ("pbs-exponential-fast-writes", 0.94, 1, "Section 5 synthetic, W mean 0.25 ms"),
]:
    curves = [r["t_visibility"] for r in rows(name)]
    cmd = f"`dynasim sweep scenarios/published/{name}.json --seeds 5`"
    m, h = mean_ci([at(c, 0.0) for c in curves])
    row(f"P(consistent read) at t=0, {note}", f"≈{100 * t0_pub:g}%", PBS, fmt(m, h, pct=True), "", cmd,
        "pbs-consistent-at-commit")
    plot("pbs-consistent-at-commit", note, t0_pub, m, h)
    m, h = mean_ci([crossing(c) for c in curves])
    row(f"t for 99.9% consistent reads, {note}", f"≈{t999_pub:g} ms", PBS, fmt(m, h, " ms"), "", cmd, "pbs-t-visibility")
    plot("pbs-t-visibility", note, t999_pub, m, h)


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
    row(f"P(consistent read) at t=0, {profile}, R=W=1", t0_pub, PBS + ", Section 6.2", ours, "", cmd,
        "pbs-consistent-at-commit")
    plot("pbs-consistent-at-commit", f"{profile}, R=W=1", float(t0_pub.rstrip("%")) / 100, m, h,
         model=model[0] if model else None)
    for t_cfg, latency_cfg, (lr, lw, t) in zip(t_configs, latency_configs, published):
        figures = [mean_ci([r["p999_get_ms"] for r in latency_cfg]), mean_ci([r["p999_put_ms"] for r in latency_cfg]),
                   mean_ci([crossing(r["t_visibility"]) for r in t_cfg])]
        digits = 2 if profile.startswith("LNKD") else 1
        ours = " / ".join(fmt(m, h, digits=digits) for m, h in figures) + " ms"
        model = wars.get(f"{profile} {rw_label(t_cfg)}")
        if model:
            ours += f" (WARS model t: {model[1]:g} ms)"
        row(f"p99.9 read / p99.9 write / t for 99.9% consistent reads, {profile}, {rw_label(t_cfg)}",
            f"{lr:g} / {lw:g} / {t:g} ms", PBS + ", Table 4", ours, "", cmd, "pbs-table4-latency")
        plot("pbs-table4-latency", f"{profile} {rw_label(t_cfg)}, read", lr, *figures[0])
        plot("pbs-table4-latency", f"{profile} {rw_label(t_cfg)}, write", lw, *figures[1])
        if t > 0 or figures[2][0] > 0:
            plot("pbs-t-visibility", f"{profile} {rw_label(t_cfg)}", t, *figures[2], model=model[1] if model else None)

server, client = by_config("dynamo-coordination")
for metric, label, pub_server, pub_client in [("mean_get_ms", "mean read", 3.9, 1.55), ("mean_put_ms", "mean write", 4.02, 1.9),
                                              ("p999_get_ms", "p99.9 read", 68.9, 30.4), ("p999_put_ms", "p99.9 write", 68.5, 30.4)]:
    (ms, hs), (mc, hc) = mean_ci([r[metric] for r in server]), mean_ci([r[metric] for r in client])
    row(f"server- → client-driven coordination, {label}", f"{pub_server:g} → {pub_client:g} ms",
        "DeCandia et al., SOSP 2007, Table 2", f"{fmt(ms, hs, ' ms')} → {fmt(mc, hc, ' ms')}", "",
        "`make.sh`: dynamo-coordination", "dynamo-coordination")
    plot("dynamo-coordination", f"{label}, server-driven", pub_server, ms, hs)
    plot("dynamo-coordination", f"{label}, client-driven", pub_client, mc, hc)

for cfg in by_config("dynamo-divergent-versions"):
    e = cfg[0]["settings"][-1].split("=")[1]
    m, h = mean_ci([r["one_version_read_fraction"] for r in cfg])
    row(f"reads that see one version, carts, Zipf exponent {e}", "99.94%", "DeCandia et al., SOSP 2007, Section 6.3",
        fmt(m, h, pct=True), "", "`make.sh`: dynamo-divergent-versions", "dynamo-divergent-versions")
    plot("dynamo-divergent-versions", f"carts, Zipf exponent {e}", 0.9994, m, h)

durable, buffered = by_config("dynamo-buffered-writes")
(md, hd), (mb, hb) = mean_ci([r["p999_put_ms"] for r in durable]), mean_ci([r["p999_put_ms"] for r in buffered])
row("p99.9 write latency, durable → buffered", "several times lower (about 5×)", "DeCandia et al., SOSP 2007, Figure 5",
    f"{fmt(md, hd, ' ms', 1)} → {fmt(mb, hb, ' ms', 1)}", "", "`make.sh`: dynamo-buffered-writes", "dynamo-buffered-writes")
plot("dynamo-buffered-writes", "durable", None, md, hd)
plot("dynamo-buffered-writes", "buffered", None, mb, hb)

for name, label, pubs in [("jepsen-set-add", "healthy cluster", [("71.7%", 0.717), ("0%", 0)]),
                          ("jepsen-set-add-partition", "partition", [("about 91%", 0.91), ("0%", 0)])]:
    for cfg, (pub, pub_value) in zip(by_config(name), pubs):
        policy = cfg[0]["settings"][-1].split("=")[1]
        m, h = mean_ci([r["lost_add_fraction"] for r in cfg])
        row(f"acknowledged adds lost, {label}, {policy}", pub, "Jepsen, Call me maybe: Riak, 2013", fmt(m, h, pct=True, digits=1), "",
            f"`make.sh`: {name}", "jepsen-lost-adds")
        plot("jepsen-lost-adds", f"{label}, {policy}", pub_value, m, h)

configs = by_config("dynamo-partitioning")
for k in range(0, len(configs), 3):
    s1, s2, s3 = (mean_ci([1 / r["requests_max_over_mean"] for r in c]) for c in configs[k:k + 3])
    meta = configs[k][0]["metadata_entries_per_node"]
    row(f"load-balancing efficiency, strategies 1 / 2 / 3, {meta:.0f} metadata entries per node", "3 best, 2 worst",
        "DeCandia et al., SOSP 2007, Figure 8", " / ".join(fmt(m, h, digits=3) for m, h in (s1, s2, s3)), "",
        "`make.sh`: dynamo-partitioning", "dynamo-partitioning")
    for strategy, (m, h) in enumerate((s1, s2, s3), 1):
        plot("dynamo-partitioning", f"strategy {strategy}, {meta:.0f} metadata entries per node", None, m, h)

# The sweep's ring axis comes first: strategy 1 at each object size, then strategy 3.
configs = by_config("dynamo-bootstrapping")
half = len(configs) // 2
for s1, s3 in zip(configs[:half], configs[half:]):
    size = json.loads(s1[0]["settings"][-1].split("=", 1)[1])["bytes"] // 1024
    (m1, h1), (m3, h3) = (mean_ci([r["transfers_done_after_ms"] for r in c]) for c in (s1, s3))
    row(f"time to add a node, strategy 1 → 3, 2,000 keys of {size} KB", "strategy 1 slow (each sender scans its store), 3 faster; no figure",
        "DeCandia et al., SOSP 2007, Section 6.2", f"{fmt(m1, h1, ' ms', 0)} → {fmt(m3, h3, ' ms', 0)}", "",
        "`make.sh`: dynamo-bootstrapping", "dynamo-bootstrapping")
    plot("dynamo-bootstrapping", f"strategy 1, {size} KB objects", None, m1, h1)
    plot("dynamo-bootstrapping", f"strategy 3, {size} KB objects", None, m3, h3)

for cfg in by_config("dynamo-load-imbalance"):
    rate = cfg[0]["settings"][-1].split("=")[1]
    m, h = mean_ci([r["out_of_balance_fraction"] for r in cfg])
    row(f"nodes out of balance (more than 15% from the mean), {rate} requests/s", "about 20% at low load, 10% at high",
        "DeCandia et al., SOSP 2007, Figure 6", fmt(m, h, pct=True, digits=1), "", "`make.sh`: dynamo-load-imbalance",
        "dynamo-load-imbalance")
    plot("dynamo-load-imbalance", f"{rate} requests/s", None, m, h)

# Figure 4: the sweep's first configuration is the night's load, the second the peak's.
night, peak = by_config("dynamo-diurnal-latency")
for op, kind in [("put", "write"), ("get", "read")]:
    tails = [mean_ci([r[f"p999_{op}_ms"] for r in cfg]) for cfg in (night, peak)]
    ratios = [mean_ci([r[f"p999_{op}_ms"] / r[f"mean_{op}_ms"] for r in cfg]) for cfg in (night, peak)]
    row(f"p99.9 {kind} latency and its ratio to the mean, night → peak load",
        "follows the load; around 200 ms, an order of magnitude above the mean", "DeCandia et al., SOSP 2007, Figure 4",
        " → ".join(f"{fmt(m, h, ' ms', 1)} ({fmt(rm, rh, '×', 1)})" for (m, h), (rm, rh) in zip(tails, ratios)), "",
        "`make.sh`: dynamo-diurnal-latency", "dynamo-diurnal-latency")
    for load, (rm, rh) in zip(("night", "peak"), ratios):
        plot("dynamo-diurnal-latency", f"{kind}s, {load}", 10, rm, rh)

# One line per result saying whether they agree and why not: written by a person, in
# agreement.json, after reading the figures (a line cannot be computed from them).
agreement_file = os.path.join(OUT, "agreement.json")
agreement = json.load(open(agreement_file)) if os.path.exists(agreement_file) else {}
lines = ["# Published results, reproduced", "",
         "Regenerate with `bash reports/published/make.sh` (about 40 minutes on two cores). Each result's folder holds its",
         "sweep (results.json, results.csv), charts and index.html. dynasim's figure: mean over 5 seeds ± the half-width",
         "of a 95% interval. For PBS's Table 4, the WARS model's own t (`wars.py`, 400,000 trials, independent of",
         "dynasim) is given beside dynasim's. Scenarios and every modelling choice: `scenarios/published/*.json` (their descriptions).", "",
         "Each family of results has a chart in `charts/`: the published figure beside dynasim's mean and interval.", "",
         "Every scenario of `scenarios/published/` also passes `dynasim check` under seeds 1..200 at `duration_ms=1000`",
         "under the capacity model (12 scenarios, 2,400 runs, 0 failed; `pbs-lnkd-ssd` and `pbs-exponential-fast-writes` with",
         "`probe.clients=20`), and `dynamo-bootstrapping` under seeds 1..200 at its own duration.", "",
         "| result | published (source) | dynasim | agreement | regenerate | chart |", "| --- | --- | --- | --- | --- | --- |"]
for result, pub, ours, _, cmd, chart in table:
    lines.append(f"| {result} | {pub} | {ours} | {agreement.get(result, '')} | {cmd} | [{chart}](charts/{chart}.svg) |")
for name, (title, unit) in CHARTS.items():
    write_chart(name, title, unit, charted[name])
with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
missing = [t[0] for t in table if t[0] not in agreement]
if missing:
    print("no agreement line yet for:\n  " + "\n  ".join(missing), file=sys.stderr)
