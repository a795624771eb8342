# SPDX-License-Identifier: MIT
"""Goldens for tests/optim/schedulers_test.cpp and param_groups_test.cpp from PyTorch 1.13.1.

Keys:
  sched/<case>/lr0, lrs, momentum    rates after construction, get_last_lr() after each step [steps, groups],
                                     and (OneCycleLR) each group's momentum/beta1 after each step
  sched/<case>/metrics               ReduceLROnPlateau's metric sequence
  sdkeys/<scheduler>/<key>           1 for every key of torch's scheduler.state_dict()
  rms/in/<dtype>/w0, b0, s<k>/<p>     RMSprop inputs (no key: no gradient at that step)
  rms/<case>/<dtype>/s<k>/<p>         parameters after step k; .../state/<p>/<key> the final state
  groups/<opt>/<dtype>/s<k>/<p>       two-group training runs, parameters after step k
  layout/<opt>/g<i>/<key>             torch's optimizer.state_dict()["param_groups"][i] (numbers; bools 0/1;
                                      None skipped), layout/<opt>/g<i>/nkeys its number of keys
  layout/<opt>/state/<id>/<key>       torch's per-parameter state after two steps
"""
import math

import torch
from torch.optim import lr_scheduler as S

STEPS = 60
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def two_groups(opt_class=torch.optim.SGD, **kw):
    a = torch.zeros(2, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    return opt_class([{"params": [a]}, {"params": [b], "lr": 0.02}], **kw)


def run(w, key, opt, sched, steps=STEPS, metrics=None, momentum=None):
    w.add(key + "/lr0", torch.tensor([g["lr"] for g in opt.param_groups], dtype=torch.float64))
    lrs, moms = [], []
    for k in range(steps):
        opt.step()
        if metrics is not None:
            sched.step(metrics[k])
        else:
            sched.step()
        lrs.append(sched._last_lr if metrics is not None else sched.get_last_lr())
        if momentum:
            moms.append([g["betas"][0] if momentum == "betas" else g["momentum"] for g in opt.param_groups])
    w.add(key + "/lrs", torch.tensor(lrs, dtype=torch.float64))
    if momentum:
        w.add(key + "/momentum", torch.tensor(moms, dtype=torch.float64))
    if metrics is not None:
        w.add(key + "/metrics", torch.tensor(metrics, dtype=torch.float64))
    name = type(sched).__name__
    for k in sched.state_dict():
        if "sdkeys/%s/%s" % (name, k) not in w.keys:
            w.add("sdkeys/%s/%s" % (name, k), 1.0)


def gen_schedulers(w):
    opt = two_groups(lr=0.1, momentum=0.9)
    run(w, "sched/steplr", opt, S.StepLR(opt, step_size=7, gamma=0.5))
    opt = two_groups(lr=0.1)
    run(w, "sched/multistep", opt, S.MultiStepLR(opt, milestones=[5, 12, 30], gamma=0.3))
    opt = two_groups(lr=0.1)
    run(w, "sched/exponential", opt, S.ExponentialLR(opt, gamma=0.93))
    opt = two_groups(lr=0.1)
    run(w, "sched/lambda", opt, S.LambdaLR(opt, lambda e: 0.95 ** e))
    opt = two_groups(lr=0.1)
    run(w, "sched/lambda2", opt, S.LambdaLR(opt, [lambda e: 1.0 / (1 + e), lambda e: 0.5 ** (e // 10)]))
    opt = two_groups(lr=0.1)
    run(w, "sched/linear", opt, S.LinearLR(opt))
    opt = two_groups(lr=0.1)
    run(w, "sched/linear_warmup", opt, S.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=10))
    opt = two_groups(lr=0.1)
    run(w, "sched/fasttext", opt, S.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=50))
    opt = two_groups(lr=0.1)
    run(w, "sched/cosine", opt, S.CosineAnnealingLR(opt, T_max=20, eta_min=0.001))
    opt = two_groups(lr=0.1)
    run(w, "sched/cosine7", opt, S.CosineAnnealingLR(opt, T_max=7))
    opt = two_groups(lr=0.1, momentum=0.9)
    run(w, "sched/onecycle", opt, S.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=STEPS), momentum="momentum")
    opt = two_groups(torch.optim.Adam, lr=0.1)
    run(w, "sched/onecycle_adam", opt,
        S.OneCycleLR(opt, max_lr=0.3, total_steps=STEPS, pct_start=0.25, anneal_strategy="linear", three_phase=True,
                     div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9), momentum="betas")
    opt = two_groups(lr=0.1)
    run(w, "sched/onecycle_nomom", opt, S.OneCycleLR(opt, max_lr=0.2, total_steps=80, cycle_momentum=False), steps=STEPS)
    g = torch.Generator().manual_seed(5)
    noise = torch.rand(STEPS, generator=g, dtype=torch.float64).tolist()
    falling = [1.0 / (1 + 0.1 * k) + 0.05 * noise[k] for k in range(STEPS)]
    opt = two_groups(lr=0.1)
    run(w, "sched/plateau", opt, S.ReduceLROnPlateau(opt, patience=3, cooldown=2, min_lr=[0.001, 0.0005]), metrics=falling)
    rising = [k * 0.01 + 0.2 * noise[k] for k in range(STEPS)]
    opt = two_groups(lr=0.1)
    run(w, "sched/plateau_max", opt,
        S.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs"), metrics=rising)
    opt = two_groups(lr=0.1)
    run(w, "sched/plateau_default", opt, S.ReduceLROnPlateau(opt), metrics=[1.0] * STEPS)


RMS_CASES = {
    "default": dict(),
    "momentum": dict(lr=0.02, momentum=0.9),
    "centered": dict(lr=0.01, centered=True),
    "centered_momentum": dict(lr=0.01, momentum=0.5, centered=True),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "all": dict(lr=0.05, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
}


def make_inputs(dtype, seed):
    g = torch.Generator().manual_seed(seed)
    w0 = torch.randn(5, 3, generator=g).to(dtype)
    b0 = torch.randn(3, generator=g).to(dtype)
    steps = []
    for k in range(6):
        scale = [1.0, 0.3, 2.0, 0.5, 1.5, 0.2][k]
        grads = {"w": (torch.randn(5, 3, generator=g) * scale).to(dtype)}
        gb = (torch.randn(3, generator=g) * scale).to(dtype)
        if k != 2:
            grads["b"] = gb  # b has no gradient at step 2
        steps.append(grads)
    return w0, b0, steps


def record_inputs(w, key, w0, b0, steps):
    w.add(key + "/w0", w0)
    w.add(key + "/b0", b0)
    for k, grads in enumerate(steps):
        for name, gr in grads.items():
            w.add("%s/s%d/%s" % (key, k, name), gr)


def train(w, key, make_opt, w0, b0, steps, add_b_at=None):
    pw = w0.clone().requires_grad_()
    pb = b0.clone().requires_grad_()
    opt = make_opt(pw, pb)
    for k, grads in enumerate(steps):
        if add_b_at is not None and k == add_b_at:
            opt.add_param_group({"params": [pb], "lr": 0.3, "momentum": 0.5})
        pw.grad = grads.get("w")
        pb.grad = grads.get("b")
        opt.step()
        w.add("%s/s%d/w" % (key, k), pw)
        w.add("%s/s%d/b" % (key, k), pb)
    return opt, pw, pb


def gen_rmsprop(w):
    for dt, dtype in DTYPES.items():
        w0, b0, steps = make_inputs(dtype, 77)
        record_inputs(w, "rms/in/" + dt, w0, b0, steps)
        for case, kw in RMS_CASES.items():
            key = "rms/%s/%s" % (case, dt)
            opt, pw, pb = train(w, key, lambda a, b: torch.optim.RMSprop([a, b], foreach=False, **kw), w0, b0, steps)
            for name, p in (("w", pw), ("b", pb)):
                for sk, sv in opt.state[p].items():
                    w.add("%s/state/%s/%s" % (key, name, sk), sv if torch.is_tensor(sv) else float(sv))


GROUP_RUNS = {
    "sgd": lambda a, b: torch.optim.SGD([{"params": [a], "weight_decay": 0.01}, {"params": [b], "lr": 0.05, "nesterov": True}],
                                        lr=0.1, momentum=0.9, foreach=False),
    "adam": lambda a, b: torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.01, "betas": (0.8, 0.9), "amsgrad": True}],
                                          lr=0.05, weight_decay=0.1, foreach=False),
    "adamw": lambda a, b: torch.optim.AdamW([{"params": [a]}, {"params": [b], "weight_decay": 0.0}], lr=0.05,
                                            weight_decay=0.1, foreach=False),
    # torch 1.13 fills every sum with the constructor's initial_accumulator_value, whatever a group says
    "adagrad": lambda a, b: torch.optim.Adagrad([{"params": [a], "lr_decay": 0.1}, {"params": [b], "lr": 0.2, "eps": 1e-3}],
                                                lr=0.1, initial_accumulator_value=0.5, foreach=False),
    "rmsprop": lambda a, b: torch.optim.RMSprop([{"params": [a], "centered": True}, {"params": [b], "lr": 0.03, "momentum": 0.9}],
                                                lr=0.01, weight_decay=0.05, foreach=False),
}


def gen_groups(w):
    for dt, dtype in DTYPES.items():
        w0, b0, steps = make_inputs(dtype, 78)
        record_inputs(w, "groups/in/" + dt, w0, b0, steps)
        for name, make in GROUP_RUNS.items():
            train(w, "groups/%s/%s" % (name, dt), make, w0, b0, steps)
        # add_param_group at step 3: b joins with its own lr and momentum
        train(w, "groups/sgd_add/%s" % dt, lambda a, b: torch.optim.SGD([a], lr=0.1, momentum=0.9, foreach=False), w0, b0,
              steps, add_b_at=3)
    # The layout of state_dict() for the same runs (double), after two steps.
    w0, b0, steps = make_inputs(torch.float64, 78)
    for name, make in GROUP_RUNS.items():
        pw = w0.clone().requires_grad_()
        pb = b0.clone().requires_grad_()
        opt = make(pw, pb)
        for grads in steps[:2]:
            pw.grad, pb.grad = grads["w"], grads["b"]
            opt.step()
        sd = opt.state_dict()
        for i, group in enumerate(sd["param_groups"]):
            w.add("layout/%s/g%d/nkeys" % (name, i), float(len(group)))
            for k, v in group.items():
                if v is None:
                    continue
                if k == "params":
                    v = torch.tensor(v, dtype=torch.int64)
                elif isinstance(v, (tuple, list)):
                    v = torch.tensor(v, dtype=torch.float64)
                else:
                    v = float(v)
                w.add("layout/%s/g%d/%s" % (name, i, k), v)
        for pid, st in sd["state"].items():
            for k, v in st.items():
                w.add("layout/%s/state/%d/%s" % (name, pid, k), v if torch.is_tensor(v) and v.dim() > 0 else float(v))


def generate(writer_for):
    w = writer_for("schedulers")
    gen_schedulers(w)
    gen_rmsprop(w)
    gen_groups(w)
