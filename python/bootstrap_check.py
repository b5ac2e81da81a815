"""Independent check of a report's 95% bootstrap intervals (issue 12), in numpy.

Reads a Layer Lens report JSON (and optionally another seed), redraws the same sentence indices with its own mulberry32 (written
here from the generator's definition, in Python integers), recomputes each resample's ratio of sums
per layer, takes numpy's percentiles (linear interpolation, the default), and prints JSON with the
largest difference from the report's intervals. It also checks that the rows add up to the
per-layer aggregates, since the intervals are only as good as the rows they resample.
"""
import json
import sys

import numpy as np

MASK = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & MASK


def mulberry32(seed):
    state = seed & MASK
    while True:
        state = (state + 0x6D2B79F5) & MASK
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & MASK
        t &= MASK
        yield ((t ^ (t >> 14)) & MASK) / 4294967296


def main(path, seed=None):
    report = json.load(open(path, encoding="utf-8"))
    rows = report["rows"]
    spec = report["bootstrap"]
    if seed is not None:  # another seed: shows the comparison can fail
        spec = {**spec, "seed": seed}
    n, layers = len(rows), len(report["summary"])
    count = np.array([r["n"] for r in rows], dtype=np.float64)
    hits = np.array([r["hits"] for r in rows], dtype=np.float64)
    logp = np.array([r["logp"] for r in rows], dtype=np.float64)

    draw = mulberry32(spec["seed"])
    indices = np.array([[int(next(draw) * n) for _ in range(n)] for _ in range(spec["resamples"])])
    counts = count[indices].sum(axis=1)
    acc = hits[indices].sum(axis=1) / counts[:, None]
    mlp = logp[indices].sum(axis=1) / counts[:, None]

    worst_ci = 0.0
    for layer, s in enumerate(report["summary"]):
        for key, values in (("accuracyCI", acc[:, layer]), ("meanLogProbCI", mlp[:, layer])):
            lo, hi = np.percentile(values, [2.5, 97.5])
            worst_ci = max(worst_ci, abs(lo - s[key][0]), abs(hi - s[key][1]))
    worst_rows = 0.0
    for layer, a in enumerate(report["aggregates"]):
        assert int(count.sum()) == a["count"], (layer, count.sum(), a["count"])
        assert int(hits[:, layer].sum()) == a["hits"], (layer, hits[:, layer].sum(), a["hits"])
        worst_rows = max(worst_rows, abs(logp[:, layer].sum() - a["sumLogProb"]) / abs(a["sumLogProb"]))
    print(json.dumps({"sentences": n, "layers": layers, "resamples": spec["resamples"],
                      "maxAbsDiffCI": worst_ci, "maxRelDiffRowSums": worst_rows,
                      "widthAcc": [float(np.percentile(acc[:, l], 97.5) - np.percentile(acc[:, l], 2.5)) for l in range(layers)]}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
