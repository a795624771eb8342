# SPDX-License-Identifier: MIT
"""Golden values for tests/ops/sort_test.cpp: max/min (over a dim and over all elements), maximum/minimum,
topk, sort, argsort and cumsum from PyTorch 1.13.1, with their gradients.

Every input is recorded next to its outputs (key "<input>/input"), so the C++ test rebuilds it exactly.
Keys name the op, the input and the arguments, e.g. "max/f32_ties/-1/keep/values" or
"topk/f32_big/1/k2/largest/sorted/indices". The inputs are full of ties, NaNs, infinities and signed
zeros on purpose: tie-breaking is what these goldens pin down.
"""
import torch

# Input name -> tensor. The prefix tells the C++ test which element type to use.
def _inputs():
    torch.manual_seed(0)
    nan, inf = float("nan"), float("inf")
    return {
        "f32_ties": torch.tensor([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 1.0, 5.0], [0.0, -0.0, 0.0, -1.0]]),
        "f32_nan": torch.tensor([[1.0, nan, 3.0, nan], [2.0, 1.0, 0.0, 5.0], [nan, nan, -inf, inf]]),
        "f32_3d": (torch.randn(2, 3, 4) * 2).round(),
        # 100 values in 0..4 per row: std::sort's introsort (> 16 elements) and topk's partial_sort path (k * 64 <= 100).
        "f32_big": torch.randint(0, 5, (3, 100)).float(),
        "f32_0d": torch.tensor(2.5),
        "f32_empty": torch.zeros(2, 0, 3),
        "f64_ties": (torch.randn(3, 5, dtype=torch.float64) * 1.5).round(),
        "i64_ties": torch.randint(-3, 3, (2, 3, 4)),
        "i64_big": torch.randint(0, 3, (2, 70)),
    }


def _dims(t):
    return [0, -1] if t.dim() == 0 else list(range(t.dim())) + [-1]


def _size(t, d):
    return 1 if t.dim() == 0 else t.shape[d]


def _upstream(shape):
    """A deterministic, tie-free upstream gradient."""
    n = 1
    for s in shape:
        n *= s
    return (torch.arange(n, dtype=torch.float32) * 0.25 + 0.5).reshape(shape)


def generate(writer_for):
    w = writer_for("sort")
    inputs = _inputs()
    for name, x in inputs.items():
        w.add(name + "/input", x)
        floating = x.dtype.is_floating_point
        for fname, fn in [("max", torch.max), ("min", torch.min)]:
            if x.numel() > 0:
                w.add("%s/%s/all" % (fname, name), fn(x))
            for d in _dims(x):
                if _size(x, d) == 0:
                    continue
                for keep in [False, True]:
                    key = "%s/%s/%d/%s" % (fname, name, d, "keep" if keep else "drop")
                    v, i = fn(x, d, keepdim=keep)
                    w.add(key + "/values", v)
                    w.add(key + "/indices", i)
        for d in _dims(x):
            for desc in [False, True]:
                for stable in [False, True]:
                    key = "sort/%s/%d/%s/%s" % (name, d, "desc" if desc else "asc", "stable" if stable else "unstable")
                    v, i = torch.sort(x, dim=d, descending=desc, stable=stable)
                    w.add(key + "/values", v)
                    w.add(key + "/indices", i)
                w.add("argsort/%s/%d/%s" % (name, d, "desc" if desc else "asc"), torch.argsort(x, d, desc))
            size = _size(x, d)
            for k in sorted({0, 1, 2, 3, size // 2, size}):
                if k > size:
                    continue
                for largest in [False, True]:
                    for srt in [False, True]:
                        key = "topk/%s/%d/k%d/%s/%s" % (name, d, k, "largest" if largest else "smallest",
                                                       "sorted" if srt else "unsorted")
                        v, i = torch.topk(x, k, d, largest, srt)
                        w.add(key + "/values", v)
                        w.add(key + "/indices", i)
            w.add("cumsum/%s/%d" % (name, d), torch.cumsum(x, d))

        # Gradients of float inputs, with ties and NaN, for a fixed tie-free upstream gradient.
        if not floating or x.dtype != torch.float32 or x.numel() == 0:
            continue
        ops = {}
        for d in _dims(x):
            ops["max/%d" % d] = lambda t, d=d: torch.max(t, d)[0]
            ops["min/%d" % d] = lambda t, d=d: torch.min(t, d)[0]
            ops["sort/%d" % d] = lambda t, d=d: torch.sort(t, d)[0]
            ops["sort_desc/%d" % d] = lambda t, d=d: torch.sort(t, d, descending=True)[0]
            ops["topk2/%d" % d] = lambda t, d=d: torch.topk(t, min(2, _size(t, d)), d)[0]
            ops["topk2_smallest_unsorted/%d" % d] = lambda t, d=d: torch.topk(t, min(2, _size(t, d)), d, False, False)[0]
            ops["cumsum/%d" % d] = lambda t, d=d: torch.cumsum(t, d)
        ops["max/all"] = torch.max
        ops["min/all"] = torch.min
        for op, fn in ops.items():
            leaf = x.clone().requires_grad_()
            out = fn(leaf)
            g = _upstream(out.shape)
            out.backward(g)
            w.add("grad/%s/%s/g" % (op, name), g)
            w.add("grad/%s/%s/grad" % (op, name), leaf.grad)

    # Integer cumsum: bool and int32 inputs sum to int64.
    b = torch.tensor([[True, False, True], [True, True, False]])
    w.add("cumsum_bool/input", b)
    w.add("cumsum_bool/0", torch.cumsum(b, 0))
    w.add("cumsum_bool/1", torch.cumsum(b, 1))
    # Float cumsum is accumulated in double (1e8 + 1 + ... is exact there, not in float).
    c = torch.tensor([1e8, 1.0, 1.0, 1.0, 1.0, -1e8, 1.0])
    w.add("cumsum_acc/input", c)
    w.add("cumsum_acc/out", torch.cumsum(c, 0))

    # ---- maximum / minimum: ties (gradient split in half), NaN on either side, broadcasting --------------------
    nan = float("nan")
    pairs = {
        "same": (torch.tensor([[1.0, 2.0, 3.0, nan], [nan, 1.0, -1.0, 0.0]]),
                 torch.tensor([[1.0, 3.0, 2.0, 1.0], [nan, nan, -1.0, 0.0]])),
        "bcast": (torch.tensor([[1.0], [2.0], [nan]]), torch.tensor([0.0, 2.0, 3.0, 2.0])),
        "f64": (torch.tensor([[0.5, -2.0, 7.0]], dtype=torch.float64), torch.tensor([[0.5], [8.0]], dtype=torch.float64)),
        "i64": (torch.tensor([[1, 5, -2]]), torch.tensor([[3], [5]])),
    }
    for name, (a, b) in pairs.items():
        w.add("maximum/%s/a" % name, a)
        w.add("maximum/%s/b" % name, b)
        for fname, fn in [("maximum", torch.maximum), ("minimum", torch.minimum)]:
            w.add("%s/%s/out" % (fname, name), fn(a, b))
            if a.dtype != torch.float32:
                continue
            la, lb = a.clone().requires_grad_(), b.clone().requires_grad_()
            out = fn(la, lb)
            out.backward(_upstream(out.shape))
            w.add("%s/%s/grad_a" % (fname, name), la.grad)
            w.add("%s/%s/grad_b" % (fname, name), lb.grad)
