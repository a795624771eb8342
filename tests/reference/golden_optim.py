# SPDX-License-Identifier: MIT
"""Goldens for tests/optim: optimiser steps, training runs, StepLR and clip_grad_norm_ from PyTorch 1.13.1.

Every optimiser runs with foreach=False (the single-tensor formulas). Keys:
  in/<dtype>/<layout>/w0, b0                  starting parameters (w [5, 3], b [3])
  in/<dtype>/<layout>/s<k>/<param>/grad       a dense gradient for step k
  in/<dtype>/<layout>/s<k>/<param>/idx, val   a sparse one (row indices with duplicates, rows)
  (no key: the parameter has no gradient at that step and must be skipped)
  <opt>/<case>/<dtype>/<layout>/s<k>/<param>  the parameter after step k
Sparse cases of SGD and Adagrad are defined as "the same numbers as the dense gradient", so torch
runs them on to_dense(); where torch's own sparse path exists it is checked to agree. The lazy
(touched rows only) Adam/AdamW reference runs torch's functional adam/adamw on the rows only.
"""
import math

import torch
import torch.optim._functional as F

STEPS = 6
SCALES = [1.0, 0.3, 2.0, 0.5, 1.5, 0.2]  # varying gradient sizes, so AMSGrad's max matters
W_ROWS = [[3, 0, 3, 1], [4, 4, 2], [1], [], [0, 2, 0, 4, 2], [2, 3]]  # duplicates, unsorted, one empty
B_ROWS = [[2, 0, 2], [1], None, [0, 1, 2], [2, 2], [0]]
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def make_inputs(dtype, layout):
    g = torch.Generator().manual_seed(1234 if layout == "dense" else 4321)
    w0 = torch.randn(5, 3, generator=g).to(dtype)
    b0 = torch.randn(3, generator=g).to(dtype)
    steps = []
    for k in range(STEPS):
        grads = {}
        for name, shape, rows in (("w", (5, 3), W_ROWS[k]), ("b", (3,), B_ROWS[k])):
            if name == "b" and k == 2:
                continue  # b has no gradient at step 2
            if layout == "dense":
                grads[name] = (torch.randn(*shape, generator=g) * SCALES[k]).to(dtype)
            else:
                idx = torch.tensor(rows, dtype=torch.int64)
                val = (torch.randn(len(rows), *shape[1:], generator=g) * SCALES[k]).to(dtype)
                grads[name] = torch.sparse_coo_tensor(idx.view(1, -1), val, shape)
        steps.append(grads)
    return w0, b0, steps


def record_inputs(w, key, w0, b0, steps):
    w.add(key + "/w0", w0)
    w.add(key + "/b0", b0)
    for k, grads in enumerate(steps):
        for name, g in grads.items():
            if g.is_sparse:
                w.add("%s/s%d/%s/idx" % (key, k, name), g._indices().view(-1))
                w.add("%s/s%d/%s/val" % (key, k, name), g._values())
            else:
                w.add("%s/s%d/%s/grad" % (key, k, name), g)


def run_torch(make_opt, w0, b0, steps, densify, empty_counts_step=False):
    """Runs torch's optimiser. torch 1.13's SparseAdam crashes on an empty sparse gradient; with
    `empty_counts_step` such a step is what torch means to do: count the step, change nothing."""
    w = w0.clone().requires_grad_()
    b = b0.clone().requires_grad_()
    opt = make_opt([w, b])
    out = []
    for grads in steps:
        bump = []
        for name, p in (("w", w), ("b", b)):
            g = grads.get(name)
            p.grad = None if g is None else (g.to_dense() if densify else g.clone())
            if empty_counts_step and g is not None and g._nnz() == 0:
                p.grad = None
                bump.append(p)
        opt.step()
        for p in bump:
            opt.state[p]["step"] += 1
        out.append((w.detach().clone(), b.detach().clone()))
    return out


def run_lazy(decoupled, lr, betas, eps, weight_decay, amsgrad, w0, b0, steps):
    """Adam/AdamW applied to the rows of each (coalesced) sparse gradient only, with torch's own formulas."""
    params = [w0.clone(), b0.clone()]
    state = [None, None]
    out = []
    for grads in steps:
        for i, name in enumerate(("w", "b")):
            g = grads.get(name)
            if g is None:
                continue
            p = params[i]
            if state[i] is None:
                state[i] = dict(step=torch.tensor(0.), m=torch.zeros_like(p), v=torch.zeros_like(p), vmax=torch.zeros_like(p))
            s = state[i]
            g = g.coalesce()
            rows = g._indices().view(-1)
            sub = [p[rows].clone(), s["m"][rows].clone(), s["v"][rows].clone(), s["vmax"][rows].clone()]
            fn = F.adamw if decoupled else F.adam
            fn([sub[0]], [g._values()], [sub[1]], [sub[2]], [sub[3]] if amsgrad else [], [s["step"]], foreach=False,
               amsgrad=amsgrad, beta1=betas[0], beta2=betas[1], lr=lr, weight_decay=weight_decay, eps=eps, maximize=False)
            p[rows], s["m"][rows], s["v"][rows], s["vmax"][rows] = sub
        out.append((params[0].clone(), params[1].clone()))
    return out


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.9, dampening=0.3),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.05),
    "all": dict(lr=0.1, momentum=0.8, dampening=0.1, weight_decay=0.01),
    "nesterov_wd": dict(lr=0.2, momentum=0.5, nesterov=True, weight_decay=0.1),
}
ADAM_CASES = {
    "default": dict(),
    "custom": dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "amsgrad": dict(lr=0.02, amsgrad=True),
    "amsgrad_wd": dict(lr=0.02, betas=(0.5, 0.6), weight_decay=0.05, amsgrad=True),
}
ADAMW_CASES = {
    "default": dict(),
    "amsgrad": dict(lr=0.05, weight_decay=0.1, amsgrad=True),
    "no_decay": dict(lr=0.01, weight_decay=0.0),
}
ADAGRAD_CASES = {
    "default": dict(),
    "lr_decay": dict(lr=0.1, lr_decay=0.1),
    "initial_acc": dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6),
    "weight_decay": dict(lr=0.1, weight_decay=0.1),
}
SPARSE_ADAM_CASES = {
    "default": dict(),
    "custom": dict(lr=0.1, betas=(0.5, 0.7), eps=1e-4),
}
LAZY_CASES = {  # (decoupled, lr, betas, eps, weight_decay, amsgrad)
    "adam": (False, 0.05, (0.9, 0.999), 1e-8, 0.1, True),
    "adamw": (True, 0.05, (0.8, 0.99), 1e-8, 0.1, False),
}


def record_run(w, key, results):
    for k, (wk, bk) in enumerate(results):
        w.add("%s/s%d/w" % (key, k), wk)
        w.add("%s/s%d/b" % (key, k), bk)


def gen_steps(w):
    for dt, dtype in DTYPES.items():
        for layout in ("dense", "sparse"):
            w0, b0, steps = make_inputs(dtype, layout)
            record_inputs(w, "in/%s/%s" % (dt, layout), w0, b0, steps)
            tail = "%s/%s" % (dt, layout)
            for case, kw in SGD_CASES.items():
                res = run_torch(lambda ps: torch.optim.SGD(ps, foreach=False, **kw), w0, b0, steps, True)
                if layout == "sparse" and kw.get("weight_decay", 0) == 0:  # torch's sparse path agrees
                    own = run_torch(lambda ps: torch.optim.SGD(ps, foreach=False, **kw), w0, b0, steps, False)
                    for (a, b), (c, d) in zip(res, own):
                        assert torch.allclose(a, c, rtol=1e-5, atol=1e-6) and torch.allclose(b, d, rtol=1e-5, atol=1e-6)
                record_run(w, "sgd/%s/%s" % (case, tail), res)
            for case, kw in ADAGRAD_CASES.items():
                res = run_torch(lambda ps: torch.optim.Adagrad(ps, foreach=False, **kw), w0, b0, steps, True)
                if layout == "sparse" and kw.get("weight_decay", 0) == 0:
                    # torch 1.13's sparse Adagrad fails on an empty sparse gradient (step 3): check the steps before it.
                    own = run_torch(lambda ps: torch.optim.Adagrad(ps, foreach=False, **kw), w0, b0, steps[:3], False)
                    for (a, b), (c, d) in zip(res, own):
                        assert torch.allclose(a, c, rtol=1e-5, atol=1e-6) and torch.allclose(b, d, rtol=1e-5, atol=1e-6)
                record_run(w, "adagrad/%s/%s" % (case, tail), res)
            if layout == "dense":
                for case, kw in ADAM_CASES.items():
                    res = run_torch(lambda ps: torch.optim.Adam(ps, foreach=False, **kw), w0, b0, steps, True)
                    record_run(w, "adam/%s/%s" % (case, tail), res)
                for case, kw in ADAMW_CASES.items():
                    res = run_torch(lambda ps: torch.optim.AdamW(ps, foreach=False, **kw), w0, b0, steps, True)
                    record_run(w, "adamw/%s/%s" % (case, tail), res)
            else:
                for case, kw in SPARSE_ADAM_CASES.items():
                    res = run_torch(lambda ps: torch.optim.SparseAdam(ps, **kw), w0, b0, steps, False, True)
                    record_run(w, "sparse_adam/%s/%s" % (case, tail), res)
                for case, args in LAZY_CASES.items():
                    res = run_lazy(*args, w0, b0, steps)
                    record_run(w, "lazy/%s/%s" % (case, tail), res)


def gen_training(w):
    """Small regressions through autograd: losses at every step and the final weights."""
    g = torch.Generator().manual_seed(7)
    X = torch.randn(16, 3, generator=g, dtype=torch.float64)
    true_w = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    noise = torch.randn(16, generator=g, dtype=torch.float64)
    y_lin = X @ true_w + 0.3 + 0.1 * noise
    y_log = ((X @ true_w + 0.5 * noise) > 0).to(torch.float64)
    w0 = torch.randn(3, generator=g, dtype=torch.float64) * 0.1
    w.add("train/X", X)
    w.add("train/y_lin", y_lin)
    w.add("train/y_log", y_log)
    w.add("train/w0", w0)

    def linreg(Xd, yd, wt, bt):
        d = Xd @ wt + bt - yd
        return (d * d).mean()

    def logreg(Xd, yd, wt, bt):
        p = torch.sigmoid(Xd @ wt + bt)
        return -(yd * torch.log(p) + (1 - yd) * torch.log(1 - p)).mean()

    runs = {
        "sgd": (linreg, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, foreach=False), (4, 0.5), None),
        "sgd_nesterov": (logreg, lambda ps: torch.optim.SGD(ps, lr=0.5, momentum=0.9, nesterov=True, weight_decay=0.001,
                                                              foreach=False), None, None),
        "adam": (logreg, lambda ps: torch.optim.Adam(ps, lr=0.1, foreach=False), None, None),
        "adamw": (linreg, lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.05, amsgrad=True, foreach=False), None, None),
        "adagrad": (logreg, lambda ps: torch.optim.Adagrad(ps, lr=0.5, lr_decay=0.01, foreach=False), None, 0.15),
    }
    for dt, dtype in DTYPES.items():
        Xd, w_init = X.to(dtype), w0.to(dtype)
        for name, (loss_fn, make_opt, sched, clip) in runs.items():
            yd = (y_lin if loss_fn is linreg else y_log).to(dtype)
            wt = w_init.clone().requires_grad_()
            bt = torch.zeros(1, dtype=dtype, requires_grad=True)
            opt = make_opt([wt, bt])
            scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=sched[0], gamma=sched[1]) if sched else None
            losses, norms = [], []
            for _ in range(12):
                opt.zero_grad()
                loss = loss_fn(Xd, yd, wt, bt)
                loss.backward()
                losses.append(loss.item())
                if clip is not None:
                    norms.append(torch.nn.utils.clip_grad_norm_([wt, bt], clip).item())
                opt.step()
                if scheduler:
                    scheduler.step()
            key = "train/%s/%s" % (name, dt)
            w.add(key + "/losses", torch.tensor(losses, dtype=torch.float64))
            w.add(key + "/w", wt)
            w.add(key + "/b", bt)
            if norms:
                w.add(key + "/norms", torch.tensor(norms, dtype=torch.float64))


def gen_scheduler(w):
    for name, lr, step_size, gamma, n in (("a", 0.1, 3, 0.1, 10), ("b", 0.5, 1, 0.7, 8), ("c", 1.0, 2, 0.3, 9)):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
        lrs = []
        for _ in range(n):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        w.add("steplr/%s" % name, torch.tensor(lrs, dtype=torch.float64))


def gen_clip(w):
    for dt, dtype in DTYPES.items():
        g = torch.Generator().manual_seed(99)
        ga = torch.randn(4, 3, generator=g).to(dtype)
        gb = torch.randn(5, generator=g).to(dtype)
        w.add("clip/%s/ga" % dt, ga)
        w.add("clip/%s/gb" % dt, gb)
        for case, max_norm, norm_type in (("l2", 1.0, 2.0), ("inf", 0.5, math.inf), ("l1", 2.0, 1.0), ("l3", 1.5, 3.0),
                                          ("none", 100.0, 2.0)):
            a = torch.zeros(4, 3, dtype=dtype, requires_grad=True)
            b = torch.zeros(5, dtype=dtype, requires_grad=True)
            c = torch.zeros(2, dtype=dtype, requires_grad=True)  # no gradient: ignored
            a.grad, b.grad = ga.clone(), gb.clone()
            total = torch.nn.utils.clip_grad_norm_([a, b, c], max_norm, norm_type)
            key = "clip/%s/%s" % (dt, case)
            w.add(key + "/total", total.to(torch.float64))
            w.add(key + "/ga", a.grad)
            w.add(key + "/gb", b.grad)
        # A sparse gradient with duplicate rows counts as its to_dense(). torch gets the 2-norm right
        # but does not scale sparse gradients (and fails for inf), so the reference runs on to_dense().
        idx = torch.tensor([1, 3, 1, 0], dtype=torch.int64)
        val = torch.randn(4, 3, generator=g).to(dtype)
        sp = torch.sparse_coo_tensor(idx.view(1, -1), val, (4, 3))
        w.add("clip/%s/sparse/idx" % dt, idx)
        w.add("clip/%s/sparse/val" % dt, val)
        for case, norm_type in (("l2", 2.0), ("inf", math.inf)):
            a = torch.zeros(4, 3, dtype=dtype, requires_grad=True)
            b = torch.zeros(5, dtype=dtype, requires_grad=True)
            a.grad, b.grad = sp.to_dense(), gb.clone()
            total = torch.nn.utils.clip_grad_norm_([a, b], 0.5, norm_type)
            if norm_type == 2.0:
                a2 = torch.zeros(4, 3, dtype=dtype, requires_grad=True)
                a2.grad = sp.clone()
                b2 = torch.zeros(5, dtype=dtype, requires_grad=True)
                b2.grad = gb.clone()
                assert torch.allclose(torch.nn.utils.clip_grad_norm_([a2, b2], 0.5), total)
            key = "clip/%s/sparse/%s" % (dt, case)
            w.add(key + "/total", total.to(torch.float64))
            w.add(key + "/ga", a.grad)
            w.add(key + "/gb", b.grad)


def generate(writer_for):
    w = writer_for("optim")
    gen_steps(w)
    gen_training(w)
    gen_scheduler(w)
    gen_clip(w)
