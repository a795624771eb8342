# SPDX-License-Identifier: MIT
"""Golden values for tests/core/tensor_api_test.cpp: libtorch-style method calls on fixed inputs.

Each record is the result of one method call, as PyTorch 1.13.1 computes it, so the C++ test can
check that x.method(args) reaches the right op with the right arguments.
"""
import torch


def generate(writer_for):
    w = writer_for("tensor_api")
    torch.manual_seed(11)
    x = torch.randn(3, 4)
    ties = torch.tensor([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, -1.0, 2.0], [4.0, -4.0, 4.0, 0.0]])
    m = torch.randn(4, 2)
    w.add("x", x)
    w.add("ties", ties)
    w.add("m", m)
    calls = {
        "sum": x.sum(), "sum_1": x.sum(1), "sum_01_keep": x.sum((0, 1), keepdim=True), "sum_m1_keep": x.sum(-1, True),
        "mean": x.mean(), "mean_1": x.mean(1), "mean_0_keep": x.mean(0, True), "mean_01": x.mean((0, 1)),
        "norm": x.norm(), "norm_1_1": x.norm(1, 1), "norm_inf_0_keep": x.norm(float("inf"), 0, True),
        "pow_2": x.pow(2), "pow_t": x.abs().pow(m.t()[:1]), "exp": x.exp(), "log": x.abs().log(),
        "sqrt": x.abs().sqrt(), "abs": x.abs(), "neg": x.neg(), "tanh": x.tanh(), "sigmoid": x.sigmoid(),
        "relu": x.relu(), "clamp": x.clamp(-0.5, 0.5), "clamp_min": x.clamp_min(0.1), "clamp_max": x.clamp_max(0.1),
        "softmax_1": x.softmax(1), "log_softmax_0": x.log_softmax(0), "matmul": x.matmul(m), "mm": x.mm(m),
        "t": x.t(), "transpose": x.transpose(0, 1), "reshape": x.reshape(2, 6), "view": x.view(-1, 3),
        "unsqueeze_0": x.unsqueeze(0), "unsqueeze_m1": x.unsqueeze(-1), "flatten": x.unsqueeze(1).flatten(1),
        "squeeze": x.unsqueeze(1).squeeze(), "squeeze_1": x.unsqueeze(1).squeeze(1),
        "index_select": x.index_select(1, torch.tensor([3, 0, 3])),
        "argmax": ties.argmax(), "argmax_1": ties.argmax(1), "argmin_0": ties.argmin(0), "argmin_1_keep": ties.argmin(1, True),
        "add_s": x.add(2), "sub_t": x.sub(x[0]), "mul_s": x.mul(3), "div_t": x.div(x[1]),
    }
    for name, value in calls.items():
        w.add("call/" + name, value)
    # Gradients through a chain written with methods.
    xg = x.clone().requires_grad_()
    loss = xg.pow(2).sum(1).sqrt().mean() + xg.softmax(1).max() - xg.abs().clamp(0.2, 1.0).norm()
    loss.backward()
    w.add("chain/loss", loss)
    w.add("chain/grad", xg.grad)
