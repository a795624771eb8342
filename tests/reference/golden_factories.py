# SPDX-License-Identifier: MIT
"""Golden values for tests/core/factories_test.cpp: ranges and seeded random factories from PyTorch 1.13.1.

Each random record is what torch returns right after torch.manual_seed(seed); "<key>/next" is
torch.rand(3) drawn right after it, which pins how many numbers the factory consumed. Ranges record
their arguments as "<key>/args" (float64) beside the values. Outputs longer than 5000 elements keep
only every 97th value ("<key>/every97", 97 being coprime to every vector width) and, for randperm,
sum(i * p[i]) ("<key>/moment"), so the file stays small.
"""
import random

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "int32": torch.int32}


def generate(writer_for):
    w = writer_for("factories")

    def add(key, t):
        if t.numel() > 5000:
            w.add(key + "/every97", t[::97])
            if t.dtype == torch.int64:
                w.add(key + "/moment", (torch.arange(t.numel()) * t).sum())
        else:
            w.add(key, t)

    def seeded(key, seed, make):
        torch.manual_seed(seed)
        add(key, make())
        w.add(key + "/next", torch.rand(3))

    # ---- linspace / arange: hand-picked edge cases, then random ones -------------------------------
    rng = random.Random(5)
    lin_cases = [(0, 1, 7), (0, 1, 100), (-3.7, 11.2, 37), (0.1, 0.9, 1000), (5, -2.3, 50), (-1, 1, 2), (0, 1, 3),
                 (2.5, 2.5, 17), (1 / 3, 2 / 3, 99), (-100.3, 1e4 / 7, 1234), (0, 1, 40000), (3, 1, 1), (0, 1, 0),
                 (-7.9, 1000.2, 23), (5, -3, 40), (0, 100, 37)]
    for _ in range(30):
        lin_cases.append((rng.uniform(-100, 100) * rng.choice([1, 1e-3, 1e3]),
                          rng.uniform(-100, 100) * rng.choice([1, 1e-3, 1e3]), rng.choice([rng.randint(2, 80), rng.randint(2, 400)])))
    for dtype in ["float32", "float64", "int64", "int32"]:
        for i, (s, e, n) in enumerate(lin_cases):
            if dtype.startswith("int") and (abs(s) > 1e6 or abs(e) > 1e6):
                continue
            key = "linspace/%s/%d" % (dtype, i)
            w.add(key + "/args", torch.tensor([s, e, n], dtype=torch.float64))
            add(key, torch.linspace(s, e, n, dtype=DTYPES[dtype]))
    ar_cases = [(0, 1, 0.1), (0.1, 1.7, 0.1), (-3, 7, 0.3), (0, 100, 1 / 3), (1e-3, 5.5, 0.0123), (10, -3, -0.7),
                (0, 40000, 0.37), (1.1, 2.2, 0.011), (1, 2, 0.25), (0, 1, 2)]
    for _ in range(30):
        s = rng.uniform(-100, 100) * rng.choice([1, 1e-3, 1e3])
        e = rng.uniform(-100, 100) * rng.choice([1, 1e-3, 1e3])
        ar_cases.append((s, e, (e - s) / rng.uniform(0.5, 300)))
    for dtype in ["float32", "float64"]:
        for i, (s, e, st) in enumerate(ar_cases):
            key = "arange/%s/%d" % (dtype, i)
            w.add(key + "/args", torch.tensor([s, e, st], dtype=torch.float64))
            add(key, torch.arange(s, e, st, dtype=DTYPES[dtype]))
    int_ar = [(0.5, 3.7, 1.0), (-2.5, 3.7, 1.5), (3.7, -2.5, -1.5), (0, 10, 3), (0, -10, -3), (-7, 1000, 13)]
    for dtype in ["int64", "int32"]:
        for i, (s, e, st) in enumerate(int_ar):
            key = "arange/%s/%d" % (dtype, i)
            w.add(key + "/args", torch.tensor([s, e, st], dtype=torch.float64))
            add(key, torch.arange(s, e, st, dtype=DTYPES[dtype]))

    # ---- randperm -----------------------------------------------------------------------------------
    for seed in [0, 1, 42]:
        for n in [0, 1, 2, 5, 10, 100, 1000, 100000]:
            seeded("randperm/%d/%d" % (seed, n), seed, lambda: torch.randperm(n))
        for dtype in ["float32", "float64", "int32"]:
            seeded("randperm/%d/30/%s" % (seed, dtype), seed, lambda: torch.randperm(30, dtype=DTYPES[dtype]))

    # ---- bernoulli ----------------------------------------------------------------------------------
    for dtype in ["float32", "float64"]:
        for seed in [0, 3, 17]:
            torch.manual_seed(100 + seed)
            p = torch.rand(6, 7, dtype=DTYPES[dtype])
            p[0, :3] = torch.tensor([0.0, 1.0, 0.5], dtype=DTYPES[dtype])
            w.add("bernoulli/%s/%d/p" % (dtype, seed), p)
            seeded("bernoulli/%s/%d" % (dtype, seed), seed, lambda: torch.bernoulli(p))
            for prob in [0.0, 0.3, 1.0]:
                seeded("bernoulli_scalar/%s/%d/%g" % (dtype, seed, prob), seed,
                       lambda: torch.bernoulli(torch.zeros(4, 5, dtype=DTYPES[dtype]), prob))
    seeded("bernoulli_scalar/int64/5/0.7", 5, lambda: torch.bernoulli(torch.zeros(3, 4, dtype=torch.int64), 0.7))

    # ---- multinomial --------------------------------------------------------------------------------
    for dtype in ["float32", "float64"]:
        for seed in [0, 1, 7]:
            torch.manual_seed(200 + seed)
            probs = torch.rand(3, 70, dtype=DTYPES[dtype])  # 70 >= 64 * 1: topk's partial-sort path for k = 1
            probs[1, 5:40] = 0
            w.add("multinomial/%s/%d/probs" % (dtype, seed), probs)
            for k in [1, 2, 5, 35, 70]:
                seeded("multinomial/%s/%d/norepl/%d" % (dtype, seed, k), seed, lambda: torch.multinomial(probs, k))
            for k in [1, 2, 7, 100]:
                seeded("multinomial/%s/%d/repl/%d" % (dtype, seed, k), seed, lambda: torch.multinomial(probs, k, True))
            one = probs[2, :9].clone()
            w.add("multinomial/%s/%d/probs1d" % (dtype, seed), one)
            seeded("multinomial/%s/%d/1d_norepl" % (dtype, seed), seed, lambda: torch.multinomial(one, 4))
            seeded("multinomial/%s/%d/1d_repl" % (dtype, seed), seed, lambda: torch.multinomial(one, 12, True))
    sparse = torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
    for seed in [0, 5]:
        seeded("multinomial/zeros/%d" % seed, seed, lambda: torch.multinomial(sparse, 3))

    # ---- *_like -------------------------------------------------------------------------------------
    for dtype in ["float32", "float64"]:
        like = torch.zeros(3, 4, dtype=DTYPES[dtype])
        seeded("rand_like/%s" % dtype, 9, lambda: torch.rand_like(like))
        seeded("randn_like/%s" % dtype, 9, lambda: torch.randn_like(like))
        seeded("randint_like/%s" % dtype, 9, lambda: torch.randint_like(like, -3, 8))
    seeded("randint_like/int64", 9, lambda: torch.randint_like(torch.zeros(3, 4, dtype=torch.int64), 10))
