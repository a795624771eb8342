# SPDX-License-Identifier: MIT
"""Golden values for tests/nn/layers_test.cpp: activations, GELU, Dropout, LayerNorm, BatchNorm1d and a
Sequential model, from PyTorch 1.13.1.

Each case records its inputs (x, weights, the upstream gradient g) and PyTorch's outputs: y, and the
gradients of sum(y * g). Keys: <layer>/<case>/<tensor>. Dropout cases record what
torch.nn.functional.dropout returns right after torch.manual_seed(seed), and "<key>/next" =
torch.rand(3) drawn after it (pins how many numbers dropout consumed).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def generate(writer_for):
    w = writer_for("layers")
    gen = torch.Generator().manual_seed(12)

    def randn(*shape, dtype=torch.float32, scale=1.0):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)

    def run(key, fn, x, params=(), dtype=None):
        """Records x, y = fn(x), g and the gradients of sum(y * g) w.r.t. x and each named parameter."""
        x = x.clone().requires_grad_(True)
        y = fn(x)
        g = randn(*y.shape, dtype=y.dtype)
        (y * g).sum().backward()
        w.add(key + "/x", x)
        w.add(key + "/y", y)
        w.add(key + "/g", g)
        w.add(key + "/x_grad", x.grad)
        for name, p in params:
            w.add(key + "/" + name + "_grad", p.grad)

    # ---- activations ---------------------------------------------------------------------------------
    x = torch.tensor([-4.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.7, 1.5, 3.0, 6.0])
    for dtype in [torch.float32, torch.float64]:
        name = "float32" if dtype == torch.float32 else "float64"
        for approx in ["none", "tanh"]:
            run("gelu/%s/%s" % (approx, name), lambda t, a=approx: F.gelu(t, approximate=a), x.to(dtype))
    x = randn(3, 5, scale=2.0)
    run("relu/basic", nn.ReLU(), x)
    run("tanh/basic", nn.Tanh(), x)
    run("sigmoid/basic", nn.Sigmoid(), x)
    run("softmax/dim1", nn.Softmax(dim=1), x)
    run("softmax/dim0", nn.Softmax(dim=0), x)
    run("log_softmax/dim1", nn.LogSoftmax(dim=1), x)
    run("gelu_module/tanh", nn.GELU(approximate="tanh"), x)
    run("flatten/default", nn.Flatten(), randn(2, 3, 4))
    run("flatten/0_1", nn.Flatten(0, 1), randn(2, 3, 4))

    # ---- Dropout -------------------------------------------------------------------------------------
    for name, dtype, p, shape, seed in [("p0.3", torch.float32, 0.3, (4, 5), 3), ("p0.5", torch.float32, 0.5, (6, 7), 11),
                                        ("p0.9_double", torch.float64, 0.9, (3, 8), 5), ("p0.1", torch.float32, 0.1, (100,), 2)]:
        x = randn(*shape, dtype=dtype)
        torch.manual_seed(seed)
        x_leaf = x.clone().requires_grad_(True)
        y = F.dropout(x_leaf, p, training=True)
        nxt = torch.rand(3)
        g = randn(*shape, dtype=dtype)
        (y * g).sum().backward()
        key = "dropout/" + name
        w.add(key + "/x", x)
        w.add(key + "/y", y)
        w.add(key + "/next", nxt)
        w.add(key + "/g", g)
        w.add(key + "/x_grad", x_leaf.grad)
        torch.manual_seed(seed)  # the module form draws the same stream
        assert torch.equal(nn.Dropout(p)(x), y.detach())
        torch.manual_seed(seed)  # ... and so does bernoulli_(1 - p) on empty_like(x)
        assert torch.equal(x * (torch.empty_like(x).bernoulli_(1 - p) / (1 - p)), y.detach())
    torch.manual_seed(4)
    w.add("dropout/p1/y", F.dropout(torch.tensor([1.0, -2.0, float("inf")]), 1.0))
    w.add("dropout/p1/next", torch.rand(3))

    # ---- LayerNorm -----------------------------------------------------------------------------------
    def layer_norm_case(key, shape, normalized_shape, eps=1e-5, affine=True, dtype=torch.float32):
        ln = nn.LayerNorm(normalized_shape, eps=eps, elementwise_affine=affine, dtype=dtype)
        params = []
        if affine:
            with torch.no_grad():
                ln.weight.copy_(randn(*ln.weight.shape, dtype=dtype) * 0.5 + 1)
                ln.bias.copy_(randn(*ln.bias.shape, dtype=dtype))
            w.add(key + "/weight", ln.weight)
            w.add(key + "/bias", ln.bias)
            params = [("weight", ln.weight), ("bias", ln.bias)]
        run(key, ln, randn(*shape, dtype=dtype, scale=3.0) + 1, params)

    layer_norm_case("layer_norm/last", (2, 3, 4), [4])
    layer_norm_case("layer_norm/last2", (2, 3, 4), [3, 4], eps=1e-3)
    layer_norm_case("layer_norm/no_affine", (5, 6), [6], affine=False)
    layer_norm_case("layer_norm/double", (4, 7), [7], dtype=torch.float64)

    # ---- BatchNorm1d: several training steps, then eval ---------------------------------------------
    def batch_norm_case(key, shape, steps=3, **kwargs):
        c = shape[1]
        bn = nn.BatchNorm1d(c, **kwargs)
        params = []
        if bn.affine:
            with torch.no_grad():
                bn.weight.copy_(randn(c) * 0.5 + 1)
                bn.bias.copy_(randn(c))
            w.add(key + "/weight", bn.weight)
            w.add(key + "/bias", bn.bias)
            params = [("weight", bn.weight), ("bias", bn.bias)]
        for step in range(steps):
            if bn.affine:
                bn.weight.grad = None
                bn.bias.grad = None
            run("%s/train%d" % (key, step), bn, randn(*shape, scale=2.0) + step, params)
            if bn.track_running_stats:
                w.add("%s/train%d/running_mean" % (key, step), bn.running_mean)
                w.add("%s/train%d/running_var" % (key, step), bn.running_var)
                w.add("%s/train%d/num_batches_tracked" % (key, step), bn.num_batches_tracked)
        bn.eval()
        if bn.affine:
            bn.weight.grad = None
            bn.bias.grad = None
        run(key + "/eval", bn, randn(*shape, scale=2.0), params)

    batch_norm_case("batch_norm/2d", (5, 4))
    batch_norm_case("batch_norm/3d", (3, 4, 6))
    batch_norm_case("batch_norm/momentum_none", (6, 3), momentum=None)
    batch_norm_case("batch_norm/no_affine", (4, 3, 2), affine=False, momentum=0.3, eps=1e-3)
    batch_norm_case("batch_norm/untracked", (5, 3), steps=1, track_running_stats=False)

    # ---- a Sequential model: state dict from PyTorch, one training forward with dropout, then eval ----
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.3), nn.LayerNorm(6), nn.GELU(),
                        nn.Linear(6, 3))
    with torch.no_grad():
        net[1].running_mean.copy_(randn(6) * 0.1)
        net[1].running_var.copy_(randn(6).abs() + 0.5)
        net[1].num_batches_tracked.fill_(7)
    for k, v in net.state_dict().items():
        w.add("sequential/state/" + k, v)
    x = randn(8, 4)
    torch.manual_seed(21)
    y = net(x)
    g = randn(8, 3)
    (y * g).sum().backward()
    w.add("sequential/train/x", x)
    w.add("sequential/train/y", y)
    w.add("sequential/train/g", g)
    for k, p in net.named_parameters():
        w.add("sequential/train/grad/" + k, p.grad)
    for k, v in net.state_dict().items():
        if "running" in k or "num_batches" in k:
            w.add("sequential/train/after/" + k, v)
    net.eval()
    w.add("sequential/eval/y", net(x))
