# SPDX-License-Identifier: MIT
"""Golden values for tests/nn/losses_test.cpp: the losses and distance functions of issue 12.

Every case records its inputs ("<case>/in0", "in1", ...), then for each reduction the output
("<case>/<reduction>/out") and the gradient of every input ("<case>/<reduction>/grad0", ...). The
unreduced loss is backpropagated with a recorded random gradient ("<case>/none/g"), the reduced
ones with 1. Float32 cases run in float32 in torch, as tapegrad would; "_f64" cases in float64.
"""
import torch
import torch.nn.functional as F

REDUCTIONS = ["none", "mean", "sum"]


def generate(writer_for):
    w = writer_for("losses")
    torch.manual_seed(12)

    def record(case, fn, inputs, reductions=REDUCTIONS, grads=None):
        """Runs fn(*inputs, reduction) for each reduction; grads lists which inputs get a gradient."""
        grads = range(len(inputs)) if grads is None else grads
        for i, x in enumerate(inputs):
            w.add("%s/in%d" % (case, i), x)
        leaves = [x.detach().clone().requires_grad_(i in grads) for i, x in enumerate(inputs)]
        for reduction in reductions:
            key = "%s/%s" % (case, reduction) if reduction else case
            for x in leaves:
                x.grad = None
            out = fn(*leaves, reduction) if reduction else fn(*leaves)
            w.add(key + "/out", out)
            if out.dim() > 0 or reduction == "none" or not reduction:
                g = torch.randn(out.shape, dtype=out.dtype)
                w.add(key + "/g", g)
            else:
                g = torch.ones_like(out)
            out.backward(g)
            for i in grads:
                w.add("%s/grad%d" % (key, i), leaves[i].grad)

    def randn(*shape, dtype=torch.float32, scale=1.0):
        return torch.randn(*shape, dtype=dtype) * scale

    # ---- element-wise regression losses -----------------------------------------------------------------
    kinks = torch.tensor([[-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 0.25]])  # |d| == beta/delta hits the switch
    for dtype, suffix in [(torch.float32, ""), (torch.float64, "_f64")]:
        x, t = randn(4, 5, dtype=dtype, scale=1.5), randn(4, 5, dtype=dtype)
        record("l1_loss/basic" + suffix, lambda a, b, r: F.l1_loss(a, b, reduction=r), [x, t])
        record("mse_loss/basic" + suffix, lambda a, b, r: F.mse_loss(a, b, reduction=r), [x, t])
        record("smooth_l1_loss/basic" + suffix, lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r), [x, t])
        record("huber_loss/basic" + suffix, lambda a, b, r: F.huber_loss(a, b, reduction=r), [x, t])
    x, t = randn(3, 4, scale=2.0), randn(3, 4)
    for beta in [0.5, 0.0, 3.0]:
        record("smooth_l1_loss/beta%s" % beta, lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=beta), [x, t])
    for delta in [0.5, 2.0]:
        record("huber_loss/delta%s" % delta, lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=delta), [x, t])
    zeros = torch.zeros_like(kinks)
    record("l1_loss/kinks", lambda a, b, r: F.l1_loss(a, b, reduction=r), [kinks, zeros])
    record("smooth_l1_loss/kinks", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r), [kinks, zeros])
    record("smooth_l1_loss/kinks_beta0", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0), [kinks, zeros])
    record("huber_loss/kinks", lambda a, b, r: F.huber_loss(a, b, reduction=r), [kinks, zeros])
    record("huber_loss/kinks_delta0.5", lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=0.5), [kinks, zeros])

    # ---- binary_cross_entropy -------------------------------------------------------------------------
    for dtype, suffix in [(torch.float32, ""), (torch.float64, "_f64")]:
        p, t = torch.sigmoid(randn(4, 3, dtype=dtype, scale=2.0)), torch.rand(4, 3, dtype=dtype)
        record("binary_cross_entropy/soft" + suffix, lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r), [p, t])
    p, hard = torch.sigmoid(randn(4, 3, scale=2.0)), torch.randint(0, 2, (4, 3)).float()
    wc, wfull = torch.tensor([0.5, 2.0, 1.5]), torch.rand(4, 3) + 0.5
    record("binary_cross_entropy/hard", lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r), [p, hard])
    record("binary_cross_entropy/weight_c", lambda a, b, r: F.binary_cross_entropy(a, b, weight=wc, reduction=r), [p, hard])
    w.add("binary_cross_entropy/weight_c/weight", wc)
    record("binary_cross_entropy/weight_full", lambda a, b, r: F.binary_cross_entropy(a, b, weight=wfull, reduction=r),
           [p, hard])
    w.add("binary_cross_entropy/weight_full/weight", wfull)
    # probabilities 0 and 1: the logs clamp at -100, the input gradient at 1 / 1e-12
    edge_p = torch.tensor([0.0, 0.0, 1.0, 1.0, 0.5, 1e-30])
    edge_t = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 1.0])
    record("binary_cross_entropy/edges", lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r), [edge_p, edge_t],
           grads=[0])

    # ---- binary_cross_entropy_with_logits --------------------------------------------------------------
    def bce_logits(weight=None, pos_weight=None):
        return lambda a, b, r: F.binary_cross_entropy_with_logits(a, b, weight=weight, pos_weight=pos_weight, reduction=r)

    for dtype, suffix in [(torch.float32, ""), (torch.float64, "_f64")]:
        x, t = randn(4, 3, dtype=dtype, scale=3.0), torch.rand(4, 3, dtype=dtype)
        pw = torch.tensor([3.0, 0.5, 1.0], dtype=dtype)
        record("bce_with_logits/basic" + suffix, bce_logits(), [x, t])
        record("bce_with_logits/pos_weight" + suffix, bce_logits(pos_weight=pw), [x, t])
        w.add("bce_with_logits/pos_weight%s/pos_weight" % suffix, pw)
    x, t = randn(2, 4, 3, scale=2.0), torch.randint(0, 2, (2, 4, 3)).float()
    pw, wc = torch.tensor([2.0, 0.25, 4.0]), torch.tensor([[1.0], [0.5], [2.0], [0.0]])  # wc: [4, 1] broadcasts
    w.add("bce_with_logits/3d/pos_weight", pw)
    w.add("bce_with_logits/3d/weight", wc)
    record("bce_with_logits/3d_pos_weight", bce_logits(pos_weight=pw), [x, t])
    record("bce_with_logits/3d_weight", bce_logits(weight=wc), [x, t])
    record("bce_with_logits/3d_both", bce_logits(weight=wc, pos_weight=pw), [x, t])
    extreme = torch.tensor([-100.0, -100.0, -30.0, 0.0, 30.0, 100.0, 100.0, -88.0, 89.0])
    extreme_t = torch.tensor([0.0, 1.0, 1.0, 0.5, 0.0, 1.0, 0.0, 1.0, 0.0])
    record("bce_with_logits/extreme", bce_logits(), [extreme, extreme_t])
    record("bce_with_logits/extreme_pos_weight", bce_logits(pos_weight=torch.tensor([3.0])), [extreme, extreme_t])
    record("bce_with_logits/extreme_f64", bce_logits(), [extreme.double(), extreme_t.double()])

    # ---- cross_entropy with label_smoothing -----------------------------------------------------------
    x2 = randn(5, 4)
    t2 = torch.tensor([1, 0, 3, -100, 2])
    t2_ign0 = torch.tensor([1, 0, 3, 0, 2])
    w4 = torch.tensor([0.5, 2.0, 1.0, 0.25])
    x3 = randn(2, 4, 3)
    t3 = torch.tensor([[1, 0, 3], [2, -100, 2]])
    x1 = randn(4)
    w.add("cross_entropy/t2", t2)
    w.add("cross_entropy/t2_ign0", t2_ign0)
    w.add("cross_entropy/w4", w4)
    w.add("cross_entropy/t3", t3)
    for ls in [0.1, 0.3, 1.0]:
        record("cross_entropy/ls%s" % ls, lambda a, r: F.cross_entropy(a, t2, reduction=r, label_smoothing=ls), [x2])
    record("cross_entropy/ls0.2_weight", lambda a, r: F.cross_entropy(a, t2, weight=w4, reduction=r, label_smoothing=0.2),
           [x2])
    record("cross_entropy/ls0.2_weight_ign0",
           lambda a, r: F.cross_entropy(a, t2_ign0, weight=w4, ignore_index=0, reduction=r, label_smoothing=0.2), [x2])
    record("cross_entropy/ls0.2_3d_weight", lambda a, r: F.cross_entropy(a, t3, weight=w4, reduction=r, label_smoothing=0.2),
           [x3])
    record("cross_entropy/ls0.2_1d", lambda a, r: F.cross_entropy(a, torch.tensor(2), reduction=r, label_smoothing=0.2),
           [x1])
    record("cross_entropy/ls0.2_f64", lambda a, r: F.cross_entropy(a, t2, weight=w4.double(), reduction=r, label_smoothing=0.2),
           [x2.double()])

    # ---- cosine_embedding_loss ------------------------------------------------------------------------
    a, b = randn(6, 4), randn(6, 4)
    b[0] = a[0] * 2  # cos = 1 exactly-ish
    y = torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0, 0.0])  # y = 0 contributes 0
    for margin in [0.0, 0.5, -0.5]:
        record("cosine_embedding_loss/margin%s" % margin,
               lambda u, v, s, r: F.cosine_embedding_loss(u, v, s, margin=margin, reduction=r), [a, b, y], grads=[0, 1])
    record("cosine_embedding_loss/1d", lambda u, v, s, r: F.cosine_embedding_loss(u, v, s, reduction=r),
           [randn(5), randn(5), torch.tensor(-1.0)], grads=[0, 1])
    record("cosine_embedding_loss/f64", lambda u, v, s, r: F.cosine_embedding_loss(u, v, s, margin=0.2, reduction=r),
           [a.double(), b.double(), y.double()], grads=[0, 1])

    # ---- margin_ranking_loss --------------------------------------------------------------------------
    u, v = randn(8), randn(8)
    y = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
    for margin in [0.0, 0.5]:
        record("margin_ranking_loss/margin%s" % margin,
               lambda p, q, s, r: F.margin_ranking_loss(p, q, s, margin=margin, reduction=r), [u, v, y], grads=[0, 1])
    record("margin_ranking_loss/broadcast", lambda p, q, s, r: F.margin_ranking_loss(p, q, s, margin=0.3, reduction=r),
           [randn(3, 1), randn(1, 4), torch.tensor([[1.0, -1.0, 1.0, -1.0]] * 3)], grads=[0, 1])
    record("margin_ranking_loss/f64", lambda p, q, s, r: F.margin_ranking_loss(p, q, s, margin=0.5, reduction=r),
           [u.double(), v.double(), y.double()], grads=[0, 1])

    # ---- triplet_margin_loss --------------------------------------------------------------------------
    an, po, ne = randn(6, 4), randn(6, 4), randn(6, 4)
    for case, kw in [("default", {}), ("margin2", {"margin": 2.0}), ("p1", {"p": 1.0}), ("swap", {"swap": True}),
                     ("swap_p3_eps", {"swap": True, "p": 3.0, "eps": 1e-3})]:
        record("triplet_margin_loss/" + case,
               lambda x, p, n, r: F.triplet_margin_loss(x, p, n, reduction=r, **kw), [an, po, ne])
    record("triplet_margin_loss/1d", lambda x, p, n, r: F.triplet_margin_loss(x, p, n, reduction=r),
           [randn(5), randn(5), randn(5)])
    record("triplet_margin_loss/f64_swap", lambda x, p, n, r: F.triplet_margin_loss(x, p, n, swap=True, reduction=r),
           [an.double(), po.double(), ne.double()])

    # ---- normalize / pairwise_distance --------------------------------------------------------------------
    x = randn(3, 4)
    x[1] = 0.0  # a zero row stays zero
    record("normalize/default", lambda a: F.normalize(a), [x], reductions=[None])
    record("normalize/p1_dim0", lambda a: F.normalize(a, p=1.0, dim=0), [x], reductions=[None])
    record("normalize/dimm1_eps", lambda a: F.normalize(a, dim=-1, eps=0.5), [x], reductions=[None])
    record("normalize/f64_3d", lambda a: F.normalize(a, p=3.0, dim=1), [randn(2, 3, 2, dtype=torch.float64)],
           reductions=[None])
    x1, x2 = randn(4, 3), randn(4, 3)
    x2[2] = x1[2]  # equal rows: the eps keeps the gradient finite
    record("pairwise_distance/default", lambda a, b: F.pairwise_distance(a, b), [x1, x2], reductions=[None])
    record("pairwise_distance/p1_keepdim", lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True), [x1, x2],
           reductions=[None])
    record("pairwise_distance/broadcast", lambda a, b: F.pairwise_distance(a, b, eps=1e-3), [x1, randn(3)],
           reductions=[None])
    record("pairwise_distance/f64_p3", lambda a, b: F.pairwise_distance(a, b, p=3.0), [x1.double(), x2.double()],
           reductions=[None])
