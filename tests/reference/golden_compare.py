# SPDX-License-Identifier: MIT
"""Golden values for tests/ops/compare_test.cpp: comparisons, logic, isnan/isinf/isfinite, where,
masked_fill, any/all, equal and allclose, from PyTorch 1.13.1.

Inputs are recorded next to the outputs so the C++ tests rebuild them exactly. Bool tensors are
written as int64 0/1; Python bools (equal, allclose) as 0-d float64 0/1.
"""
import torch

nan, inf = float("nan"), float("inf")

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]


def generate(writer_for):
    w = writer_for("compare")
    torch.manual_seed(0)

    def small_ints(*shape, dtype=torch.float32):
        # Few distinct values, so the comparisons see plenty of ties.
        return torch.randint(-2, 3, shape).to(dtype)

    # ---- comparisons: every op on every case, tensor-tensor ------------------------------------------
    specials = [1.0, nan, inf, -inf, 0.0, -0.0, 2.5, 3.0, nan, -inf]
    others = [1.0, nan, inf, inf, -0.0, 0.0, 3.0, 2.5, 1.0, -inf]
    cases = {
        "float_special": (torch.tensor(specials), torch.tensor(others)),
        "float_bcast": (small_ints(2, 1, 3), small_ints(4, 3)),
        "float_0d": (torch.tensor(0.5), torch.tensor([0.0, 0.5, 1.0])),
        "float_empty": (torch.zeros(0, 3), small_ints(3)),
        "double_special": (torch.tensor(specials, dtype=torch.float64), torch.tensor(others, dtype=torch.float64)),
        "double_bcast": (small_ints(3, 1, dtype=torch.float64) / 3, small_ints(1, 4, dtype=torch.float64) / 3),
        "int64_bcast": (small_ints(2, 3, dtype=torch.int64), small_ints(2, 1, dtype=torch.int64)),
        "int64_0d": (torch.tensor(-1), small_ints(2, 2, dtype=torch.int64)),
    }
    for case, (a, b) in cases.items():
        w.add("cmp/%s/a" % case, a)
        w.add("cmp/%s/b" % case, b)
        for op in COMPARISONS:
            w.add("cmp/%s/%s" % (case, op), getattr(torch, op)(a, b))
    # tensor-scalar
    scalar_cases = {
        "float_special": (torch.tensor(specials), 1.0),
        "float_bcast": (small_ints(2, 3), 0.0),
        "double_special": (torch.tensor(specials, dtype=torch.float64), 2.5),
        "int64": (small_ints(2, 3, dtype=torch.int64), 1),
    }
    for case, (a, s) in scalar_cases.items():
        w.add("cmp_scalar/%s/a" % case, a)
        w.add("cmp_scalar/%s/s" % case, float(s))
        for op in COMPARISONS:
            w.add("cmp_scalar/%s/%s" % (case, op), getattr(torch, op)(a, s))

    # ---- logical ops ----------------------------------------------------------------------------------
    logic_cases = {
        "bool_bcast": (torch.tensor([[True], [False]]), torch.tensor([True, False, True])),
        "float_special": (torch.tensor([0.0, -0.0, nan, 1.5, inf, 0.0]), torch.tensor([0.0, 1.0, 0.0, nan, -inf, 2.0])),
        "int64_bcast": (torch.tensor([0, 3, -1, 0]), torch.tensor([[0], [2]])),
        "double_0d": (torch.tensor(0.0, dtype=torch.float64), torch.tensor([0.0, -2.0], dtype=torch.float64)),
        "bool_empty": (torch.zeros(0, 2, dtype=torch.bool), torch.tensor([True, False])),
    }
    for case, (a, b) in logic_cases.items():
        w.add("logic/%s/a" % case, a)
        w.add("logic/%s/b" % case, b)
        w.add("logic/%s/logical_not" % case, torch.logical_not(a))
        for op in LOGICAL:
            w.add("logic/%s/%s" % (case, op), getattr(torch, op)(a, b))

    # ---- isnan / isinf / isfinite ---------------------------------------------------------------------
    class_cases = {
        "float": torch.tensor([[0.0, -1.5, nan], [inf, -inf, 3.4e38]]),
        "double": torch.tensor([nan, -nan, 1e308, inf, -0.0], dtype=torch.float64),
        "int64": torch.tensor([[0, -5], [7, 9223372036854775807]]),
        "bool": torch.tensor([True, False]),
        "empty": torch.zeros(2, 0),
        "float_0d": torch.tensor(-inf),
    }
    for case, a in class_cases.items():
        w.add("class/%s/a" % case, a)
        for op in ["isnan", "isinf", "isfinite"]:
            w.add("class/%s/%s" % (case, op), getattr(torch, op)(a))

    # ---- where (values and gradients) -----------------------------------------------------------------
    def randn(*shape, dtype=torch.float32):
        return torch.randn(tuple(shape), dtype=dtype)

    def bools(*shape):
        return torch.rand(*shape) < 0.5

    where_cases = {
        "same": (bools(2, 3), randn(2, 3), randn(2, 3)),
        "bcast3": (bools(2, 1, 3), randn(4, 1), randn(3)),
        "cond_small": (bools(3), randn(2, 3), randn(2, 1)),
        "scalar_b": (bools(2, 3), randn(2, 3), 0.5),
        "scalar_a": (bools(3), -1.25, randn(2, 3)),
        "zero_d": (torch.tensor(True), torch.tensor(2.0), randn(2)),
        "zero_d_false": (torch.tensor(False), torch.tensor(2.0), randn(2)),
        "empty": (torch.zeros(0, 2, dtype=torch.bool), randn(2), randn(1)),
        "nan": (torch.tensor([True, False, True, False]), torch.tensor([nan, nan, inf, 1.0]),
                torch.tensor([0.0, -inf, nan, nan])),
        "double": (bools(3, 2), randn(3, 2, dtype=torch.float64), randn(2, dtype=torch.float64)),
    }
    for case, (c, a, b) in where_cases.items():
        key = "where/" + case
        w.add(key + "/cond", c)
        leaves = []
        for name, v in [("a", a), ("b", b)]:
            if isinstance(v, float):
                w.add("%s/%s_scalar" % (key, name), v)
            else:
                v.requires_grad_()
                leaves.append(v)
                w.add("%s/%s" % (key, name), v)
        out = torch.where(c, a, b)
        w.add(key + "/out", out)
        assert out.grad_fn.name() == "WhereBackward0"
        g = randn(*out.shape, dtype=out.dtype)
        w.add(key + "/g", g)
        out.backward(g)
        for name, v in [("a", a), ("b", b)]:
            if not isinstance(v, float):
                w.add("%s/grad_%s" % (key, name), v.grad)
    c, a, b = bools(2, 3), small_ints(3, dtype=torch.int64), small_ints(2, 1, dtype=torch.int64)
    w.add("where/int64/cond", c)
    w.add("where/int64/a", a)
    w.add("where/int64/b", b)
    w.add("where/int64/out", torch.where(c, a, b))

    # ---- masked_fill (values and gradients) -----------------------------------------------------------
    fill_cases = {
        "same": (randn(2, 3), bools(2, 3), -1.5),
        "bcast": (randn(2, 3, 4), bools(3, 1), 2.0),
        "mask_0d": (randn(2, 3), torch.tensor(True), 4.0),
        "mask_0d_false": (randn(2, 3), torch.tensor(False), 4.0),
        "zero_d": (torch.tensor(1.5), torch.tensor(True), -3.0),
        "empty": (torch.zeros(0, 3), bools(3), 1.0),
        "nan_value": (randn(4), torch.tensor([True, False, True, False]), nan),
        "inf_input": (torch.tensor([inf, nan, -inf, 1.0]), torch.tensor([True, True, False, False]), 0.0),
        "double": (randn(3, 2, dtype=torch.float64), bools(2), 0.25),
    }
    for case, (a, mask, value) in fill_cases.items():
        for form in ["scalar", "tensor"]:
            key = "masked_fill/%s/%s" % (form, case)
            a_leaf = a.clone().requires_grad_()
            if form == "scalar":
                out = a_leaf.masked_fill(mask, value)
                assert out.grad_fn.name() == "MaskedFillBackward0"
            else:
                v = torch.tensor(value, dtype=a.dtype, requires_grad=True)
                out = a_leaf.masked_fill(mask, v)
                assert out.grad_fn.name() == "MaskedFillBackward1"
            w.add(key + "/a", a)
            w.add(key + "/mask", mask)
            w.add(key + "/value", value)
            w.add(key + "/out", out)
            g = randn(*out.shape, dtype=out.dtype)
            w.add(key + "/g", g)
            out.backward(g)
            w.add(key + "/grad_a", a_leaf.grad)
            if form == "tensor":
                w.add(key + "/grad_value", v.grad)
    a, mask = small_ints(2, 3, dtype=torch.int64), bools(3)
    w.add("masked_fill/int64/a", a)
    w.add("masked_fill/int64/mask", mask)
    w.add("masked_fill/int64/out", a.masked_fill(mask, 7))

    # ---- any / all --------------------------------------------------------------------------------------
    reduce_cases = {
        "float": (torch.tensor([[0.0, 1.0, 0.0, 0.0], [nan, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]), [0, 1, -1]),
        "float_full": (torch.tensor([[1.0, -2.0], [nan, inf]]), [0, 1]),
        "bool3d": (bools(2, 3, 4), [0, 1, 2, -2]),
        "int64": (torch.tensor([[0, 5, 0], [3, 2, 1]]), [0, 1, -2]),
        "double": (torch.tensor([[-0.0, 1e-300], [0.0, 0.0]], dtype=torch.float64), [0, 1]),
        "empty": (torch.zeros(0, 3), [0, 1, -1]),
        "zero_d_zero": (torch.tensor(0.0), [0, -1]),
        "zero_d_one": (torch.tensor(2.0), [0]),
    }
    for case, (a, dims) in reduce_cases.items():
        key = "anyall/" + case
        w.add(key + "/a", a)
        for op in ["any", "all"]:
            w.add("%s/%s" % (key, op), getattr(torch, op)(a))
            for d in dims:
                w.add("%s/%s/dim%d" % (key, op, d), getattr(torch, op)(a, d))
                w.add("%s/%s/dim%d_keep" % (key, op, d), getattr(torch, op)(a, d, keepdim=True))

    # ---- equal and allclose -------------------------------------------------------------------------------
    x = randn(2, 3)
    equal_cases = {
        "same": (x, x.clone()),
        "one_differs": (x, x.clone().index_fill_(1, torch.tensor([2]), 0.0)),
        "shape_differs": (torch.ones(2), torch.ones(1, 2)),
        "bcast_not_equal": (torch.ones(2, 3), torch.ones(3)),
        "nan": (torch.tensor([1.0, nan]), torch.tensor([1.0, nan])),
        "signed_zero": (torch.tensor([0.0]), torch.tensor([-0.0])),
        "empty": (torch.zeros(0, 2), torch.zeros(0, 2)),
        "empty_shapes": (torch.zeros(0, 2), torch.zeros(2, 0)),
        "zero_d": (torch.tensor(3.0), torch.tensor(3.0)),
        "int64": (torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4])),
    }
    for case, (a, b) in equal_cases.items():
        w.add("equal/%s/a" % case, a)
        w.add("equal/%s/b" % case, b)
        w.add("equal/%s/out" % case, torch.equal(a, b))

    y = randn(3, 4)
    allclose_cases = {
        "default_close": (y, y * (1 + 5e-6), 1e-5, 1e-8, False),
        "default_far": (y, y * (1 + 5e-5), 1e-5, 1e-8, False),
        "rtol_loose": (y, y * (1 + 5e-5), 1e-4, 1e-8, False),
        "atol_only_in": (torch.tensor([0.0, 1.0]), torch.tensor([0.09, 1.05]), 0.0, 0.1, False),
        "atol_only_out": (torch.tensor([0.0, 1.0]), torch.tensor([0.11, 1.05]), 0.0, 0.1, False),
        "rtol_uses_other": (torch.tensor([1.0]), torch.tensor([1.1]), 0.095, 0.0, False),
        "rtol_uses_other_swapped": (torch.tensor([1.1]), torch.tensor([1.0]), 0.095, 0.0, False),
        "zero_tol_equal": (torch.tensor([1.0, -0.0]), torch.tensor([1.0, 0.0]), 0.0, 0.0, False),
        "zero_tol_differ": (torch.tensor([1.0]), torch.tensor([1.0000001]), 0.0, 0.0, False),
        "inf_same": (torch.tensor([inf, -inf, 1.0]), torch.tensor([inf, -inf, 1.0]), 1e-5, 1e-8, False),
        "inf_opposite": (torch.tensor([inf]), torch.tensor([-inf]), 1e-5, 1e-8, False),
        "inf_vs_large": (torch.tensor([inf]), torch.tensor([3e38]), 1.0, 1e-8, False),
        "huge_tol_inf": (torch.tensor([inf]), torch.tensor([1.0]), inf, inf, False),
        "nan": (torch.tensor([nan, 1.0]), torch.tensor([nan, 1.0]), 1e-5, 1e-8, False),
        "nan_equal_nan": (torch.tensor([nan, 1.0]), torch.tensor([nan, 1.0]), 1e-5, 1e-8, True),
        "nan_one_side": (torch.tensor([nan, 1.0]), torch.tensor([1.0, 1.0]), 1e-5, 1e-8, True),
        "bcast": (torch.ones(2, 3), torch.ones(3) * (1 + 1e-6), 1e-5, 1e-8, False),
        "bcast_far": (torch.ones(2, 3), torch.tensor([1.0, 1.0, 1.1]), 1e-5, 1e-8, False),
        "empty": (torch.zeros(0, 3), torch.ones(3), 1e-5, 1e-8, False),
        "double_close": (torch.tensor([1.0], dtype=torch.float64), torch.tensor([1.0 + 1e-9], dtype=torch.float64),
                         0.0, 1e-8, False),
        "double_far": (torch.tensor([1.0], dtype=torch.float64), torch.tensor([1.0 + 2e-8], dtype=torch.float64),
                       0.0, 1e-8, False),
        "int64_close": (torch.tensor([100000, 5]), torch.tensor([100001, 5]), 1e-5, 1e-8, False),
        "int64_far": (torch.tensor([100000, 5]), torch.tensor([100002, 5]), 1e-5, 1e-8, False),
        "int64_atol": (torch.tensor([3, -7]), torch.tensor([5, -7]), 0.0, 2.0, False),
    }
    for case, (a, b, rtol, atol, equal_nan) in allclose_cases.items():
        key = "allclose/" + case
        w.add(key + "/a", a)
        w.add(key + "/b", b)
        w.add(key + "/rtol", rtol)
        w.add(key + "/atol", atol)
        w.add(key + "/equal_nan", float(equal_nan))
        w.add(key + "/out", torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
