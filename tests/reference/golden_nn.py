# SPDX-License-Identifier: MIT
"""Golden values for tests/nn: Linear, Embedding, EmbeddingBag and nn.init, from PyTorch 1.13.1.

Each case records its inputs (weights, indices, upstream gradients) as well as the outputs, so the
C++ tests feed tapegrad exactly what PyTorch saw. Keys: <area>/<case>/<tensor>.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def _init(w):
    # Module and function initialisation after fixed seeds (bit-exact targets for tapegrad's generator).
    torch.manual_seed(1)
    lin = nn.Linear(3, 5)
    w.add("init/linear_3_5/weight", lin.weight)
    w.add("init/linear_3_5/bias", lin.bias)
    torch.manual_seed(0)
    lin = nn.Linear(40, 10)
    w.add("init/linear_40_10/weight", lin.weight)
    w.add("init/linear_40_10/bias", lin.bias)
    torch.manual_seed(2)
    lin = nn.Linear(4, 3, dtype=torch.float64)
    w.add("init/linear_double_4_3/weight", lin.weight)
    w.add("init/linear_double_4_3/bias", lin.bias)

    torch.manual_seed(1)
    w.add("init/embedding_3_5/weight", nn.Embedding(3, 5).weight)
    torch.manual_seed(3)
    w.add("init/embedding_pad/weight", nn.Embedding(4, 3, padding_idx=-1).weight)
    torch.manual_seed(0)
    w.add("init/embedding_10_8/weight", nn.Embedding(10, 8).weight)  # 80 normals: torch's 16-wide path
    torch.manual_seed(5)
    w.add("init/embedding_double_5_4/weight", nn.Embedding(5, 4, dtype=torch.float64).weight)
    torch.manual_seed(1)
    a = nn.Embedding(3, 5).weight.detach().clone()
    b = nn.Embedding(3, 5).weight.detach().clone()
    w.add("init/two_embeddings/first", a)
    w.add("init/two_embeddings/second", b)  # the cached Box-Muller sample carries across modules

    torch.manual_seed(7)
    t = torch.empty(4, 6)
    nn.init.uniform_(t, -2, 3)
    w.add("init/uniform/value", t)
    t = torch.empty(3, 4)
    nn.init.normal_(t, 0.5, 2)
    w.add("init/normal/value", t)
    t = torch.empty(5, 7, dtype=torch.float64)
    nn.init.xavier_uniform_(t, gain=2.0)
    w.add("init/xavier_uniform/value", t)
    t = torch.empty(3, 4)
    nn.init.xavier_normal_(t)
    w.add("init/xavier_normal/value", t)
    t = torch.empty(6, 5)
    nn.init.kaiming_uniform_(t, a=0.1, mode="fan_out", nonlinearity="relu")
    w.add("init/kaiming_uniform_relu_fan_out/value", t)
    t = torch.empty(2, 3, 4, dtype=torch.float64)
    nn.init.kaiming_normal_(t, a=0.2)
    w.add("init/kaiming_normal_3d/value", t)
    t = torch.empty(4, 3)
    nn.init.kaiming_uniform_(t, a=math.sqrt(5))
    w.add("init/kaiming_uniform_sqrt5/value", t)
    gains = [nn.init.calculate_gain(n) for n in ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")]
    gains.append(nn.init.calculate_gain("leaky_relu", 0.2))
    w.add("init/gains", torch.tensor(gains, dtype=torch.float64))


def _linear(w):
    torch.manual_seed(11)
    weight = torch.randn(4, 3, dtype=torch.float64)
    bias = torch.randn(4, dtype=torch.float64)
    w.add("linear/weight", weight)
    w.add("linear/bias", bias)
    for shape_name, shape in (("1d", (3,)), ("2d", (5, 3)), ("3d", (2, 3, 3)), ("empty", (0, 3))):
        x = torch.randn(*shape, dtype=torch.float64)
        out_shape = shape[:-1] + (4,)
        gout = torch.randn(*out_shape, dtype=torch.float64)
        w.add("linear/%s/x" % shape_name, x)
        w.add("linear/%s/gout" % shape_name, gout)
        for with_bias in (True, False):
            key = "linear/%s/%s" % (shape_name, "bias" if with_bias else "nobias")
            for dtype, suffix in ((torch.float32, ""), (torch.float64, "_double")):
                xs = x.to(dtype).detach().clone().requires_grad_()
                ws = weight.to(dtype).detach().clone().requires_grad_()
                bs = bias.to(dtype).detach().clone().requires_grad_() if with_bias else None
                y = F.linear(xs, ws, bs)
                y.backward(gout.to(dtype))
                w.add(key + "/y" + suffix, y)
                w.add(key + "/grad_x" + suffix, xs.grad)
                w.add(key + "/grad_weight" + suffix, ws.grad)
                if with_bias:
                    w.add(key + "/grad_bias" + suffix, bs.grad)


def _embedding_case(w, key, weight, idx, gout_seed=5, brief=False, **opts):
    """Runs nn.Embedding(**opts) with the given weight on idx and records output, weight after and gradient
    (with brief=True only the gradient: the upstream gradient comes from gout_seed, as in the other cases)."""
    e = nn.Embedding(weight.shape[0], weight.shape[1], dtype=weight.dtype, **opts)
    with torch.no_grad():
        e.weight.copy_(weight)
    out = e(idx)
    g = torch.Generator().manual_seed(gout_seed)
    gout = torch.randn(out.shape, generator=g, dtype=weight.dtype)
    out.backward(gout)
    grad = e.weight.grad
    if brief:
        w.add(key + "/grad", grad)
        return
    w.add(key + "/indices", idx)
    w.add(key + "/gout", gout)
    w.add(key + "/out", out)
    w.add(key + "/weight_after", e.weight)
    if grad.is_sparse:
        w.add(key + "/grad_indices", grad._indices().reshape(-1))
        w.add(key + "/grad_values", grad._values())
    w.add(key + "/grad", grad)


def _embedding(w):
    torch.manual_seed(21)
    weight = torch.randn(5, 3)
    w.add("embedding/weight", weight)
    idx = torch.tensor([[1, 1, 2], [1, 0, 4]])
    _embedding_case(w, "embedding/basic", weight, idx)
    _embedding_case(w, "embedding/pad", weight, idx, padding_idx=1)
    _embedding_case(w, "embedding/pad_negative", weight, idx, padding_idx=-1)
    _embedding_case(w, "embedding/sgbf", weight, idx, scale_grad_by_freq=True)
    _embedding_case(w, "embedding/sgbf_pad", weight, idx, scale_grad_by_freq=True, padding_idx=4)
    _embedding_case(w, "embedding/sparse", weight, idx, sparse=True)
    _embedding_case(w, "embedding/sparse_pad", weight, idx, sparse=True, padding_idx=1)
    _embedding_case(w, "embedding/sparse_all_pad", weight, torch.tensor([1, 1]), sparse=True, padding_idx=1)
    _embedding_case(w, "embedding/int32", weight, idx.to(torch.int32), padding_idx=0)
    _embedding_case(w, "embedding/scalar_index", weight, torch.tensor(3))

    # max_norm: rows of norm ~3-5 against max_norm 1.5, every norm_type the semantics notes list.
    big = weight * 3
    w.add("embedding/big_weight", big)
    for name, p in (("2", 2.0), ("1", 1.0), ("inf", math.inf), ("half", 0.5), ("zero", 0.0)):
        max_norm = 2.5 if p != 0.0 else 2.0
        _embedding_case(w, "embedding/max_norm_" + name, big, idx, max_norm=max_norm, norm_type=p)
    _embedding_case(w, "embedding/max_norm_sgbf_pad", big, idx, max_norm=2.5, scale_grad_by_freq=True, padding_idx=1)
    # A row exactly at the threshold is left alone (strict >); [3, 4] with max_norm 1 becomes [0.6, 0.8].
    exact = torch.tensor([[3.0, 4.0], [0.6, 0.8], [1.0, 0.0]])
    _embedding_case(w, "embedding/max_norm_exact", exact, torch.tensor([0, 1, 2, 0]), max_norm=1.0)

    # Bigger, for bit parity of the dense scatter and its fused multiply-add with scale_grad_by_freq.
    torch.manual_seed(22)
    weight50 = torch.randn(50, 8)
    idx50 = torch.randint(0, 50, (4, 30))
    g = torch.Generator().manual_seed(5)
    w.add("embedding/large/weight", weight50)
    w.add("embedding/large/indices", idx50)
    w.add("embedding/large/gout", torch.randn((4, 30, 8), generator=g))
    _embedding_case(w, "embedding/large/dense", weight50, idx50, brief=True, padding_idx=7)
    _embedding_case(w, "embedding/large/sgbf", weight50, idx50, brief=True, padding_idx=7, scale_grad_by_freq=True)

    # Double precision.
    _embedding_case(w, "embedding/double_sgbf", weight.double(), idx, scale_grad_by_freq=True, padding_idx=2)

    # from_pretrained: shares the tensor, padding row not zeroed, only its gradient.
    pre = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    e = nn.Embedding.from_pretrained(pre.clone(), freeze=False, padding_idx=1)
    out = e(torch.tensor([1, 2, 1, 0]))
    out.backward(torch.ones_like(out))
    w.add("embedding/pretrained/out", out)
    w.add("embedding/pretrained/grad", e.weight.grad)

    # The max_norm trap: the weight used in another op before a max_norm forward. PyTorch raises
    # "modified by an inplace operation"; its documented workaround (clone first) gives the answer
    # tapegrad must give without it.
    torch.manual_seed(23)
    w3 = torch.randn(3, 5) * 2
    other = torch.randn(4, 5, requires_grad=True)
    e = nn.Embedding(3, 5, max_norm=1.0)
    with torch.no_grad():
        e.weight.copy_(w3)
    trap_idx = torch.tensor([[0, 2], [2, 2]])
    a = e.weight.clone() @ other.t()
    out = e(trap_idx)
    g = torch.Generator().manual_seed(24)
    ga = torch.randn(a.shape, generator=g)
    go = torch.randn(out.shape, generator=g)
    ((a * ga).sum() + (out * go).sum()).backward()
    w.add("embedding/trap/weight", w3)
    w.add("embedding/trap/other", other)
    w.add("embedding/trap/indices", trap_idx)
    w.add("embedding/trap/ga", ga)
    w.add("embedding/trap/go", go)
    w.add("embedding/trap/a", a)
    w.add("embedding/trap/out", out)
    w.add("embedding/trap/weight_after", e.weight)
    w.add("embedding/trap/grad_weight", e.weight.grad)
    w.add("embedding/trap/grad_other", other.grad)


def _model(w):
    # A user-defined model composing Embedding and Linear, with the weights recorded above.
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 3, padding_idx=0)
            self.fc = nn.Linear(3, 4)

        def forward(self, idx):
            return torch.tanh(self.fc(self.emb(idx)))

    torch.manual_seed(21)
    emb_weight = torch.randn(5, 3)
    torch.manual_seed(11)
    fc_weight = torch.randn(4, 3, dtype=torch.float64).float()
    fc_bias = torch.randn(4, dtype=torch.float64).float()
    net = Net()
    with torch.no_grad():
        net.emb.weight.copy_(emb_weight)
        net.fc.weight.copy_(fc_weight)
        net.fc.bias.copy_(fc_bias)
    out = net(torch.tensor([[1, 1, 2], [1, 0, 4]]))
    gout = torch.randn(out.shape, generator=torch.Generator().manual_seed(31))
    out.backward(gout)
    w.add("model/gout", gout)
    w.add("model/out", out)
    for name, p in net.named_parameters():
        w.add("model/grad/" + name, p.grad)


def _bag_case(w, key, weight, idx, offsets=None, psw=None, gout_seed=6, **opts):
    """Runs nn.EmbeddingBag(**opts) with the given weight; records output, weight after and gradients."""
    e = nn.EmbeddingBag(weight.shape[0], weight.shape[1], dtype=weight.dtype, **opts)
    with torch.no_grad():
        e.weight.copy_(weight)
    p = psw.clone().requires_grad_() if psw is not None else None
    out = e(idx, offsets, p)
    gout = torch.randn(out.shape, generator=torch.Generator().manual_seed(gout_seed), dtype=weight.dtype)
    out.backward(gout)
    w.add(key + "/gout", gout)
    w.add(key + "/out", out)
    w.add(key + "/weight_after", e.weight)
    grad = e.weight.grad
    if grad.is_sparse:
        w.add(key + "/grad_indices", grad._indices().reshape(-1))
        w.add(key + "/grad_values", grad._values())
    w.add(key + "/grad", grad)
    if p is not None:
        w.add(key + "/grad_psw", p.grad)


def _bag_sgbf_reference(weight, idx, bag_of, bags, mode, padding_idx):
    """EmbeddingBag with scale_grad_by_freq done right (Embedding's rule, over the whole input), built from
    F.embedding and index_add, since torch's own EmbeddingBag divides some rows by the wrong count."""
    wr = weight.clone().requires_grad_()
    rows = F.embedding(idx, wr, padding_idx=padding_idx, scale_grad_by_freq=True)
    keep = (idx != padding_idx).to(weight.dtype).unsqueeze(1)
    out = torch.zeros(bags, weight.shape[1], dtype=weight.dtype).index_add(0, bag_of, rows * keep)
    if mode == "mean":
        count = torch.zeros(bags, dtype=weight.dtype).index_add(0, bag_of, keep.squeeze(1))
        out = out / count.clamp(min=1).unsqueeze(1)
    return wr, out


def _embedding_bag(w):
    torch.manual_seed(41)
    weight = torch.randn(6, 3)
    w.add("bag/weight", weight)
    idx = torch.tensor([1, 2, 4, 5, 4, 3, 2, 0, 1])
    offsets = torch.tensor([0, 3, 3, 7])  # bags [1 2 4] [] [5 4 3 2] [0 1]
    w.add("bag/indices", idx)
    w.add("bag/offsets", offsets)
    psw = torch.randn(9)
    w.add("bag/psw", psw)
    for mode in ("sum", "mean", "max"):
        _bag_case(w, "bag/%s" % mode, weight, idx, offsets, mode=mode)
        _bag_case(w, "bag/%s_pad" % mode, weight, idx, offsets, mode=mode, padding_idx=2)
        _bag_case(w, "bag/%s_last_offset" % mode, weight, idx, torch.tensor([0, 3, 3, 7, 9]), mode=mode,
                  include_last_offset=True)
    _bag_case(w, "bag/psw", weight, idx, offsets, psw=psw, mode="sum")
    _bag_case(w, "bag/psw_pad", weight, idx, offsets, psw=psw, mode="sum", padding_idx=4)
    for mode in ("sum", "mean"):
        _bag_case(w, "bag/%s_sparse" % mode, weight, idx, offsets, mode=mode, sparse=True, padding_idx=2)
    _bag_case(w, "bag/psw_sparse", weight, idx, offsets, psw=psw, mode="sum", sparse=True)
    # All-padding and empty bags give zeros in every mode.
    for mode in ("sum", "mean", "max"):
        _bag_case(w, "bag/%s_all_pad" % mode, weight, torch.tensor([2, 2, 1]), torch.tensor([0, 2, 2]), mode=mode,
                  padding_idx=2)

    # 2-D input: B bags of N. (With include_last_offset=True PyTorch drops a bag; tapegrad does not.)
    idx2 = torch.tensor([[1, 2, 0], [4, 4, 3]])
    psw2 = torch.randn(2, 3)
    w.add("bag/indices2", idx2)
    w.add("bag/psw2", psw2)
    for mode in ("sum", "mean", "max"):
        _bag_case(w, "bag/2d_%s" % mode, weight, idx2, mode=mode, padding_idx=0)
    _bag_case(w, "bag/2d_psw", weight, idx2, psw=psw2, mode="sum")

    # Max ties: the first occurrence wins, in the output and in the gradient.
    ties = torch.tensor([[1.0, 5.0, 3.0], [4.0, 5.0, 3.0], [4.0, 2.0, 3.0]])
    w.add("bag/ties/weight", ties)
    _bag_case(w, "bag/ties", ties, torch.tensor([0, 1, 2]), torch.tensor([0]), mode="max")

    # max_norm renormalises every referenced row (the padding row too) before reducing.
    big = weight * 3
    w.add("bag/big_weight", big)
    _bag_case(w, "bag/max_norm_sum", big, idx, offsets, mode="sum", max_norm=2.0, padding_idx=2)
    _bag_case(w, "bag/max_norm_max", big, idx, offsets, mode="max", max_norm=2.0, norm_type=1.0)

    # scale_grad_by_freq: the correct rule (see _bag_sgbf_reference), sum and mean, with padding.
    bag_of = torch.tensor([0, 0, 0, 2, 2, 2, 2, 3, 3])
    for mode in ("sum", "mean"):
        wr, out = _bag_sgbf_reference(weight, idx, bag_of, 4, mode, padding_idx=2)
        gout = torch.randn(out.shape, generator=torch.Generator().manual_seed(6))
        out.backward(gout)
        w.add("bag/sgbf_%s/gout" % mode, gout)
        w.add("bag/sgbf_%s/out" % mode, out)
        w.add("bag/sgbf_%s/grad" % mode, wr.grad)
    # ... and what PyTorch 1.13 itself computes for a bag [1, 1, 3] (issue #190063): row 3 gets 0.5.
    e = nn.EmbeddingBag(4, 1, mode="sum", scale_grad_by_freq=True)
    e(torch.tensor([1, 1, 3]), torch.tensor([0])).sum().backward()
    w.add("bag/sgbf_torch_bug/grad", e.weight.grad)

    # Double precision, and a larger float case for the fused per-sample-weight sum.
    _bag_case(w, "bag/double_mean_pad", weight.double(), idx, offsets, mode="mean", padding_idx=4)
    _bag_case(w, "bag/double_psw", weight.double(), idx, offsets, psw=psw.double(), mode="sum")
    torch.manual_seed(42)
    weight30 = torch.randn(30, 16)
    idx100 = torch.randint(0, 30, (100,))
    offsets12 = torch.cat([torch.tensor([0]), torch.sort(torch.randint(0, 101, (11,))).values])
    psw100 = torch.randn(100)
    w.add("bag/large/weight", weight30)
    w.add("bag/large/indices", idx100)
    w.add("bag/large/offsets", offsets12)
    w.add("bag/large/psw", psw100)
    _bag_case(w, "bag/large/psw_sum", weight30, idx100, offsets12, psw=psw100, mode="sum")
    _bag_case(w, "bag/large/mean", weight30, idx100, offsets12, mode="mean", padding_idx=3)


def generate(writer_for):
    w = writer_for("nn")
    _init(w)
    _linear(w)
    _embedding(w)
    _model(w)
    _embedding_bag(w)
