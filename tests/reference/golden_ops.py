# SPDX-License-Identifier: MIT
"""Golden values for tests/ops: forward values (and loss gradients) from PyTorch 1.13.1.

Inputs are recorded next to the outputs, so the C++ tests rebuild them exactly. Float32 cases run
in float32 in torch, as tapegrad's float ops would; a few cases run in float64 where the point is
an exact formula (cosine_similarity near zero).
"""
import torch
import torch.nn.functional as F


def generate(writer_for):
    w = writer_for("ops")
    torch.manual_seed(0)

    def leaf(*shape, dtype=torch.float32, scale=1.0):
        return (torch.randn(*shape, dtype=dtype) * scale).requires_grad_()

    # ---- softmax / log_softmax --------------------------------------------------------------------
    for name, shape, dim in [("2d_dim1", (3, 5), 1), ("3d_dim1", (2, 3, 4), 1), ("3d_dim0", (2, 3, 4), 0),
                             ("3d_dimm1", (2, 3, 4), -1), ("1d", (6,), 0)]:
        x = leaf(*shape)
        w.add("softmax/%s/input" % name, x)
        w.add("softmax/%s/out" % name, torch.softmax(x, dim))
        w.add("log_softmax/%s/out" % name, torch.log_softmax(x, dim))
    big = torch.tensor([[1000.0, 0.0, -1000.0], [1e4, 1e4 + 1, 1e4 - 1], [-1e4, -1e4 + 2, -1e4 - 3]])
    w.add("log_softmax/large/input", big)
    w.add("log_softmax/large/out", torch.log_softmax(big, 1))
    w.add("softmax/large/out", torch.softmax(big, 1))

    # ---- nll_loss / cross_entropy -------------------------------------------------------------------
    x2 = leaf(4, 5)
    t2 = torch.tensor([1, 0, 4, 2])
    t2_ign = torch.tensor([1, -100, 4, 2])
    t2_ign0 = torch.tensor([1, 0, 4, 0])
    weight5 = torch.tensor([0.5, 2.0, 1.0, 0.25, 3.0])
    x1 = leaf(5)
    x3 = leaf(2, 4, 3)  # [N, C, d1]
    t3 = torch.tensor([[1, 0, 3], [2, 2, -100]])
    weight4 = torch.tensor([1.0, 0.5, 2.0, 1.5])
    x4 = leaf(2, 3, 2, 2)  # [N, C, d1, d2]
    t4 = torch.tensor([[[0, 2], [1, 1]], [[2, 0], [1, 0]]])
    w.add("loss/x2", x2)
    w.add("loss/t2", t2)
    w.add("loss/weight5", weight5)
    w.add("loss/x1", x1)
    w.add("loss/x3", x3)
    w.add("loss/t3", t3)
    w.add("loss/weight4", weight4)
    w.add("loss/x4", x4)
    w.add("loss/t4", t4)
    g_none2 = torch.tensor([0.5, -1.0, 2.0, 1.5])
    g_none3 = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -2.0]])
    g_none4 = torch.tensor([[[0.5, -1.0], [2.0, 1.0]], [[1.5, 0.25], [-2.0, 3.0]]])
    cases = [
        ("2d", x2, t2, {}, g_none2),
        ("2d_weight", x2, t2, {"weight": weight5}, g_none2),
        ("2d_ignore", x2, t2_ign, {}, g_none2),
        ("2d_ignore0_weight", x2, t2_ign0, {"weight": weight5, "ignore_index": 0}, g_none2),
        ("1d", x1, torch.tensor(3), {}, torch.tensor(1.5)),
        ("1d_weight", x1, torch.tensor(3), {"weight": weight5}, torch.tensor(1.5)),
        ("3d", x3, t3, {}, g_none3),
        ("3d_weight", x3, t3, {"weight": weight4}, g_none3),
        ("4d", x4, t4, {}, g_none4),
        ("4d_weight_ignore2", x4, t4, {"weight": weight4[:3], "ignore_index": 2}, g_none4),
    ]
    for fname, fn in [("cross_entropy", F.cross_entropy), ("nll_loss", F.nll_loss)]:
        for case, x, t, kw, g_none in cases:
            for reduction in ["none", "mean", "sum"]:
                key = "%s/%s/%s" % (fname, case, reduction)
                out = fn(x, t, reduction=reduction, **kw)
                w.add(key + "/out", out)
                x.grad = None
                out.backward(g_none if reduction == "none" else torch.ones_like(out))
                w.add(key + "/grad", x.grad)
    ign_all = torch.tensor([-100, -100, -100, -100])
    w.add("nll_loss/all_ignored/mean", F.nll_loss(x2, ign_all))
    w.add("nll_loss/all_ignored/sum", F.nll_loss(x2, ign_all, reduction="sum"))

    # ---- mse_loss -----------------------------------------------------------------------------------
    mi = leaf(3, 4)
    mt = leaf(3, 4)
    w.add("mse/input", mi)
    w.add("mse/target", mt)
    g_mse = torch.randn(3, 4)
    w.add("mse/g_none", g_mse)
    for reduction in ["none", "mean", "sum"]:
        out = F.mse_loss(mi, mt, reduction=reduction)
        w.add("mse/%s/out" % reduction, out)
        mi.grad = None
        mt.grad = None
        out.backward(g_mse if reduction == "none" else torch.ones_like(out))
        w.add("mse/%s/grad_input" % reduction, mi.grad)
        w.add("mse/%s/grad_target" % reduction, mt.grad)

    # ---- cosine_similarity ---------------------------------------------------------------------------
    def cosine_case(key, a, b, dim, eps=1e-8, seed=None):
        a = a.detach().clone().requires_grad_()
        b = b.detach().clone().requires_grad_()
        out = F.cosine_similarity(a, b, dim=dim, eps=eps)
        w.add(key + "/x1", a)
        w.add(key + "/x2", b)
        w.add(key + "/out", out)
        g = torch.randn(out.shape, dtype=out.dtype) if seed is None else seed
        w.add(key + "/g", g)
        out.backward(g)
        w.add(key + "/grad_x1", a.grad)
        w.add(key + "/grad_x2", b.grad)

    cosine_case("cosine/dim1", torch.randn(4, 5), torch.randn(4, 5), 1)
    cosine_case("cosine/dim0", torch.randn(4, 5), torch.randn(4, 5), 0)
    cosine_case("cosine/broadcast", torch.randn(3, 1, 4), torch.randn(2, 4), -1)
    near = torch.tensor([[1e-9, 2e-9, -1e-9], [3.0, 4.0, 0.0], [1e-9, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    near2 = torch.tensor([[1.0, 1.0, 1.0], [1e-10, 0.0, 0.0], [2e-9, 1e-9, 0.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
    cosine_case("cosine/near_zero_f64", near, near2, 1, seed=torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    cosine_case("cosine/near_zero_eps_f64", near, near2, 1, eps=1e-3, seed=torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    cosine_case("cosine/f64", torch.randn(3, 6, dtype=torch.float64), torch.randn(3, 6, dtype=torch.float64), 1)

    # ---- norm -----------------------------------------------------------------------------------------
    xn = leaf(3, 4)
    w.add("norm/input", xn)
    for pname, p in [("1", 1.0), ("2", 2.0), ("3", 3.0), ("inf", float("inf")), ("0.5", 0.5), ("-inf", float("-inf")),
                     ("0", 0.0)]:
        w.add("norm/p%s/all" % pname, torch.norm(xn, p))
        w.add("norm/p%s/dim1" % pname, torch.norm(xn, p, dim=1))
        w.add("norm/p%s/dim0_keep" % pname, torch.norm(xn, p, dim=0, keepdim=True))
        w.add("norm/p%s/dims01" % pname, torch.norm(xn, p, dim=(0, 1)))
    zt = torch.tensor([3.0, 0.0, -3.0, 1.0], dtype=torch.float64, requires_grad=True)
    w.add("norm/ties/input", zt)
    for pname, p in [("1", 1.0), ("2", 2.0), ("3", 3.0), ("inf", float("inf")), ("0.5", 0.5), ("-inf", float("-inf"))]:
        zt.grad = None
        out = torch.norm(zt, p)
        out.backward()
        w.add("norm/ties/p%s/out" % pname, out)
        w.add("norm/ties/p%s/grad" % pname, zt.grad)

    # ---- matmul ---------------------------------------------------------------------------------------
    for name, sa, sb in [("dot", (4,), (4,)), ("mv", (3, 4), (4,)), ("vm", (4,), (4, 2)), ("mm", (3, 4), (4, 2)),
                         ("bmm", (2, 3, 4), (2, 4, 2)), ("broadcast", (2, 1, 3, 4), (3, 4, 2)),
                         ("batched_mat", (2, 3, 4), (4, 2)), ("vec_batched", (4,), (2, 4, 2)),
                         ("batched_vec", (2, 3, 4), (4,))]:
        a = leaf(*sa)
        b = leaf(*sb)
        out = torch.matmul(a, b)
        w.add("matmul/%s/a" % name, a)
        w.add("matmul/%s/b" % name, b)
        w.add("matmul/%s/out" % name, out)
        g = torch.randn(out.shape)
        w.add("matmul/%s/g" % name, g)
        out.backward(g)
        w.add("matmul/%s/grad_a" % name, a.grad)
        w.add("matmul/%s/grad_b" % name, b.grad)

    # ---- sum / mean -----------------------------------------------------------------------------------
    xs = torch.randn(2, 3, 4)
    w.add("reduce/input", xs)
    for dims in [(0,), (1,), (-1,), (0, 2), (-1, 0), (0, 1, 2)]:
        key = "_".join(str(d) for d in dims)
        w.add("reduce/sum/%s" % key, xs.sum(dims))
        w.add("reduce/sum_keep/%s" % key, xs.sum(dims, keepdim=True))
        w.add("reduce/mean/%s" % key, xs.mean(dims))
        w.add("reduce/mean_keep/%s" % key, xs.mean(dims, keepdim=True))
    w.add("reduce/sum_all", xs.sum())
    w.add("reduce/mean_all", xs.mean())
