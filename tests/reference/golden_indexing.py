# SPDX-License-Identifier: MIT
"""Golden values for tests/ops/indexing_test.cpp: select, narrow, x[...] and index_put from PyTorch 1.13.1.

Each case is the Python indexing expression the C++ test spells with tapegrad::indexing. The inputs
(x: [3, 4, 5], z: [2, 3, 4, 5]) and every upstream gradient are recorded, so the C++ side rebuilds
them exactly. Upstream gradients are (1 + arange) / 8, a fixed non-constant tensor of the output's shape.
"""
import torch


def upstream(out):
    return ((torch.arange(out.numel(), dtype=out.dtype) + 1) / 8).reshape(out.shape)


def generate(writer_for):
    w = writer_for("indexing")
    torch.manual_seed(0)
    x = torch.randn(3, 4, 5)
    z = torch.randn(2, 3, 4, 5)
    w.add("x", x)
    w.add("z", z)
    L = lambda *v: torch.tensor(v, dtype=torch.long)  # noqa: E731
    B = lambda *v: torch.tensor(v, dtype=torch.bool)  # noqa: E731
    mask_x = x > 0.3
    mask_34 = torch.tensor([[True, False, True, False], [False, False, False, False], [True, True, False, True]])
    w.add("mask_x", mask_x)
    w.add("mask_34", mask_34)

    def forward_backward(key, src, fn):
        leaf = src.clone().requires_grad_()
        out = fn(leaf)
        w.add(key + "/out", out)
        out.backward(upstream(out))
        w.add(key + "/grad", leaf.grad)

    # ---- select and narrow -----------------------------------------------------------------------------
    for name, dim, i in [("d0", 0, 1), ("d1_neg", 1, -1), ("dneg_neg", -1, -5), ("d2", 2, 3)]:
        forward_backward("select/" + name, x, lambda t: t.select(dim, i))
    for name, dim, start, length in [("d0", 0, 1, 2), ("d1_negstart", 1, -3, 2), ("dneg", -1, 0, 5),
                                     ("empty", 2, 5, 0), ("d2_mid", 2, 1, 3)]:
        forward_backward("narrow/" + name, x, lambda t: t.narrow(dim, start, length))

    # ---- index: basic and advanced (same names as the C++ table) -------------------------------------
    cases = {
        "int": (x, lambda t: t[1]),
        "int_neg": (x, lambda t: t[-1, 2]),
        "ints_all": (x, lambda t: t[1, -2, 3]),
        "slice_from": (x, lambda t: t[1:]),
        "slice_then_int": (x, lambda t: t[1:, 0]),
        "ellipsis_none_step": (x, lambda t: t[..., None, ::2]),
        "slice_negative": (x, lambda t: t[-2:, :-1, 1:-1:3]),
        "slice_clamped": (x, lambda t: t[-100:100, 2:50]),
        "slice_empty": (x, lambda t: t[5:2]),
        "slice_empty_mid": (x, lambda t: t[:, 3:1]),
        "slice_step_past_end": (x, lambda t: t[:, 1::2, 4:9:3]),
        "none_front": (x, lambda t: t[None, 1, None, :, 2]),
        "ellipsis_mid": (x, lambda t: t[0, ..., 1]),
        "ellipsis_only": (x, lambda t: t[...]),
        "empty_list": (x, lambda t: t[()]),
        "tensor_1d": (x, lambda t: t[L(2, 0, 2, -1)]),
        "tensor_2d": (x, lambda t: t[L([0, 1], [2, 2], [1, 0])]),
        "tensor_dim1": (x, lambda t: t[:, L(3, 0, 3)]),
        "tensor_last": (x, lambda t: t[..., L(4, -5)]),
        "tensor_after_int": (x, lambda t: t[1, :, L(4, 0, 4)]),
        "tensors_apart": (x, lambda t: t[L(2, 0), :, L(1, 3)]),
        "tensors_adjacent": (x, lambda t: t[:, L(3, 0), L(1, 3)]),
        "tensors_broadcast": (x, lambda t: t[L([0], [2]), L(1, 3, 0)]),
        "tensors_none_between": (x, lambda t: t[:, L(3, 0, 1), None, L(1, 3, 4)]),
        "tensor_int_between": (z, lambda t: t[:, L(2, 0, 2), 1, L(4, 0, 1)]),
        "tensor_int_after": (z, lambda t: t[:, L(2, 0, 2), :, 0]),
        "tensor_0d": (x, lambda t: t[torch.tensor(2), 1]),
        "tensor_empty": (x, lambda t: t[L()]),
        "tensor_slice_none": (x, lambda t: t[L(1, 1), None, 1:3]),
        "mask_all": (x, lambda t: t[mask_x]),
        "mask_dim0": (x, lambda t: t[B(True, False, True)]),
        "mask_dim1": (x, lambda t: t[:, B(False, True, True, False)]),
        # PyTorch 1.13 applies an index after a 2-d mask to the wrong dim (it steps one dim per mask):
        # x[mask_34, 1:4] fails there. tapegrad follows NumPy; this is NumPy's x[mask_34, 1:4].
        "mask_2d_then_slice": (x, lambda t: t[mask_34][:, 1:4]),
        "mask_after_int": (x, lambda t: t[1, B(True, False, True, True)]),
        "mask_with_tensor": (x, lambda t: t[B(True, False, True), :, L(4, 1)]),
        "mask_0d_true": (x, lambda t: t[torch.tensor(True)]),
        "mask_0d_false": (x, lambda t: t[torch.tensor(False)]),
        "mask_none_true": (x, lambda t: t[B(False, False, False)]),
    }
    for name, (src, fn) in cases.items():
        forward_backward("index/" + name, src, fn)

    # ---- index_put: x[...] = v (set_item, as tapegrad's index_put), accumulate via index_put_ ----------
    def v(*shape):
        return torch.randn(shape)

    put_cases = {
        "int_row": (lambda t: (1,), v(4, 5), False),
        "slice_int_broadcast": (lambda t: (slice(1, None), 0), v(5), False),
        "ellipsis_none_step": (lambda t: (Ellipsis, None, slice(None, None, 2)), v(3), False),
        "tensor_rows": (lambda t: (L(2, 0),), v(2, 4, 5), False),
        "tensor_dim1_broadcast": (lambda t: (slice(None), L(3, 0, 1)), v(3, 1), False),
        "tensors_apart": (lambda t: (L(2, 0), slice(None), L(1, 3)), v(2, 4), False),
        "mask": (lambda t: (mask_x,), v(1), False),
        "mask_2d": (lambda t: (mask_34,), v(5), False),
        "leading_ones": (lambda t: (0, 0), v(1, 1, 5), False),
        "int_all": (lambda t: (2, -1, 0), v(), False),
        "accumulate_repeats": (lambda t: (L(2, 0, 2, 2),), v(4, 5), True),
        "accumulate_dim1_repeats": (lambda t: (slice(None), L(1, 1, 3)), v(3, 3, 5), True),
        "accumulate_basic": (lambda t: (slice(1, None), 0), v(2, 5), True),
    }
    for name, (indices, values, accumulate) in put_cases.items():
        key = "index_put/" + name
        w.add(key + "/values", values)
        xl = x.clone().requires_grad_()
        vl = values.clone().requires_grad_()
        idx = indices(xl)
        y = xl.clone()
        if accumulate:
            # set_item cannot accumulate; index_put_ takes only tensors, so spell the slices as aranges.
            full = []
            for k, i in enumerate(idx):
                full.append(torch.arange(x.shape[k])[i] if isinstance(i, slice) else i)
            if name == "accumulate_basic":  # x[1:, 0] += v, no repeats
                y[idx] += vl
            else:
                ar = full[0].reshape(-1, 1) if len(full) == 2 else full[0]
                tensors = (ar, full[1]) if len(full) == 2 else (ar,)
                y = torch.index_put(xl, tensors, vl, accumulate=True)
        else:
            y[idx] = vl
        w.add(key + "/out", y)
        y.backward(upstream(y))
        w.add(key + "/grad_x", xl.grad)
        w.add(key + "/grad_values", vl.grad)
    xs = x.clone()
    xs[:, 1:3] = 7.0
    w.add("index_put/scalar_slice/out", xs)
    xs = x.clone()
    xs[mask_x] = -0.5
    w.add("index_put/scalar_mask/out", xs)
