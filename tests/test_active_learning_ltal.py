"""LTAL: MLP kernels, REINFORCE gradients, rollouts, resumable min-max training, evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from banditlab.agents.active.baselines import RoundRobinMLE
from banditlab.agents.active.ltal import (
    ARCH_ARMS,
    N_ARM_FEATURES,
    LTALPolicy,
    arm_features,
    arms_policy_gradient,
    batch_logits,
    init_params,
    load_policy,
    ltal_rollouts,
    mlp_forward,
    policy_gradient,
    policy_gradient_numpy,
    policy_logits,
    save_policy,
)
from banditlab.agents.active.ltal_train import (
    AgentSim,
    LTALConfig,
    PolicySim,
    _grad_from_rollouts,
    evaluate_algorithm,
    init_pool,
    policy_run_fn,
    round_robin_run_fn,
    train_ltal,
)
from banditlab.core import BanditlabError
from banditlab.envs.active.env import ActiveIdentification
from banditlab.envs.active.providers import SyntheticBAI
from banditlab.harness import run

SIZES = np.array([7, 6, 5, 6], dtype=np.int64)  # n_q = 3 arms: input 7, output 3 + 3


@pytest.fixture(scope="module")
def params():
    # random biases too, so that no pre-activation sits on the LeakyReLU kink at 0
    rng = np.random.default_rng(0)
    p = init_params(SIZES, rng) * 3.0
    return p + 0.3 * rng.standard_normal(p.shape)


def test_mlp_forward_matches_batched_numpy(params):
    X = np.random.default_rng(1).standard_normal((20, 7))
    ref = batch_logits(params, SIZES, X)
    for i in range(20):
        np.testing.assert_allclose(mlp_forward(params, SIZES, X[i]), ref[i], rtol=1e-12,
                                   atol=1e-12)


def _surrogate(params, X, A, lo, hi, w, ent):
    logits = batch_logits(params, SIZES, X)
    total = 0.0
    for k in range(len(X)):
        z = logits[k, lo[k]:hi[k]]
        logp = z - z.max() - np.log(np.exp(z - z.max()).sum())
        total += w[k] * -logp[A[k] - lo[k]]
        total -= ent / len(X) * -(np.exp(logp) * logp).sum()
    return total


def test_policy_gradient_parity_and_finite_differences(params):
    rng = np.random.default_rng(2)
    N = 12
    X = rng.standard_normal((N, 7))
    lo = np.where(rng.random(N) < 0.7, 0, 3).astype(np.int64)
    hi = lo + 3
    A = lo + rng.integers(0, 3, N)
    w = rng.standard_normal(N)
    g_nb = policy_gradient(params, SIZES, X, A, lo, hi, w, 0.05)
    g_np = policy_gradient_numpy(params, SIZES, X, A, lo, hi, w, 0.05)
    np.testing.assert_allclose(g_nb, g_np, rtol=1e-10, atol=1e-12)
    eps = 1e-6
    for i in rng.choice(len(params), 25, replace=False):
        e = np.zeros_like(params)
        e[i] = eps
        fd = (_surrogate(params + e, X, A, lo, hi, w, 0.05)
              - _surrogate(params - e, X, A, lo, hi, w, 0.05)) / (2 * eps)
        assert g_nb[i] == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_reinforce_gradient_matches_exact_gradient_of_expected_loss(params):
    # T = 1: the policy asks one arm and the MLE announces it, so E[loss] = 1 - pi(z* | 0)
    prov = SyntheticBAI(n=3)
    theta = np.array([0.0, 1.0, 0.5])
    sim = PolicySim(prov, budget=1)
    obs, acts, _, losses = sim.run(params, SIZES, [theta], 5000, np.random.default_rng(3))
    g = _grad_from_rollouts(params, SIZES, obs, acts, losses, np.ones(1), 3, 3, 1, "mle", 0.0)

    def exact(p):
        z = batch_logits(p, SIZES, np.zeros((1, 7)))[0, :3]
        pr = np.exp(z - z.max())
        return 1 - pr[1] / pr.sum()

    fd = np.zeros_like(params)
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = 1e-6
        fd[i] = (exact(params + e) - exact(params - e)) / 2e-6
    assert losses.mean() == pytest.approx(exact(params), abs=0.025)
    cos = g @ fd / (np.linalg.norm(g) * np.linalg.norm(fd))
    assert cos > 0.995  # measured 0.99995 with 2000 rollouts
    assert np.linalg.norm(g - fd) < 0.1 * np.linalg.norm(fd)


def test_numba_rollouts_and_env_agent_give_the_same_loss(tmp_path, params):
    path = tmp_path / "pol.npz"
    save_policy(path, params, SIZES, {"note": "test"})
    p2, s2, meta = load_policy(path)
    np.testing.assert_array_equal(p2, params)
    assert meta == {"note": "test"}
    theta = np.array([0.6, 0.0, 0.3])
    n_ep = 600
    res = run(ActiveIdentification(provider_kwargs={"n": 3}, budget=6, n_episodes=n_ep,
                                   instance_mode="sequence", instances=[theta]),
              LTALPolicy(weights=str(path), budget=6), seed=0)
    env_loss = res.finals["loss"] / n_ep
    sim = PolicySim(SyntheticBAI(n=3), budget=6)
    _, _, _, losses = sim.run(params, SIZES, [theta], n_ep, np.random.default_rng(0),
                              sample=True)  # LTALPolicy samples its queries by default
    pooled = (env_loss + losses.mean()) / 2
    assert abs(env_loss - losses.mean()) < 4 * np.sqrt(2 * pooled * (1 - pooled) / n_ep)


def test_ltal_rollout_shapes_and_phase_actions(params):
    means = np.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.3]])
    obs, acts, ys, z = ltal_rollouts(params, SIZES, means, False, 0.0, 4, 5, 0, True, True,
                                     np.zeros((0, 0)), np.zeros((0, 0)),
                                     np.random.default_rng(0))
    assert obs.shape == (2, 5, 5, 7) and acts.shape == (2, 5, 5) and ys.shape == (2, 5, 4)
    assert np.all(acts[:, :, :4] < 3) and np.all(acts[:, :, 4] >= 3)
    np.testing.assert_array_equal(acts[:, :, 4] - 3, z)
    assert set(np.unique(ys)) <= {0.0, 1.0}
    np.testing.assert_allclose(obs[:, :, -1, -1], 1.0)
    np.testing.assert_allclose(obs[:, :, -1, :3].sum(axis=-1), 1.0)  # counts / T sum to 1


TINY = dict(provider="synthetic_bai", provider_kwargs={"n": 3}, budget=6, class_r1=6.0,
            n_classes=2, hidden=(8,), init="random", pool_size=6, rollouts=4, iters_class=4,
            iters_robust=4, checkpoint_every=3)


@pytest.mark.parametrize("arch", ["flat", "arms"])
def test_training_is_resumable_bit_for_bit(tmp_path, arch):
    kw = {**TINY, "arch": arch}
    cfg = LTALConfig(**kw)
    full = train_ltal(cfg, tmp_path / "a", progress=False)
    assert full["done"] and len(full["v_star"]) == 2
    part = train_ltal(cfg, tmp_path / "b", progress=False, max_iters=5)
    assert not part["done"]
    meta = json.loads((tmp_path / "b" / "ltal_state.json").read_text())
    assert meta["done_iters"] == 5
    rest = train_ltal(LTALConfig(**kw), tmp_path / "b", progress=False)
    assert rest["done"] and rest["v_star"] == full["v_star"]
    pa, _, meta_a = load_policy(tmp_path / "a" / "pi_star.npz")
    pb, _, _ = load_policy(tmp_path / "b" / "pi_star.npz")
    np.testing.assert_array_equal(pa, pb)
    assert meta_a["arch"] == arch
    with pytest.raises(BanditlabError, match="another config"):
        train_ltal(LTALConfig(**{**kw, "seed": 1}), tmp_path / "b", progress=False)
    agent = LTALPolicy(weights=str(tmp_path / "a" / "pi_r1.npz"), budget=6, class_index=1)
    assert type(agent)(**agent.get_params()).get_params() == agent.get_params()


def test_config_and_policy_errors(tmp_path):
    with pytest.raises(BanditlabError, match="provider"):
        LTALConfig(provider="jester_linear").validate()
    with pytest.raises(BanditlabError, match="budget"):
        LTALConfig(budget=0).validate()
    with pytest.raises(BanditlabError, match="init"):
        LTALConfig(arch="flat", hidden=(4,)).validate()  # that warm start needs hidden=()
    with pytest.raises(BanditlabError, match="arch"):
        LTALConfig(arch="conv").validate()
    with pytest.raises(BanditlabError, match="arch"):
        LTALConfig(provider="thresholds", arch="arms").validate()
    with pytest.raises(BanditlabError, match="decision"):
        LTALConfig(arch="arms", decision="head").validate()
    with pytest.raises(BanditlabError, match="rr_prior"):
        LTALConfig(rr_prior=-1.0).validate()
    assert LTALConfig().resolved_arch() == "arms"
    assert LTALConfig(provider="thresholds").resolved_arch() == "flat"
    with pytest.raises(BanditlabError, match="robust_init"):
        LTALConfig(robust_init="warm").validate()
    with pytest.raises(BanditlabError, match="gap_ema"):
        LTALConfig(gap_ema=1.0).validate()
    env = ActiveIdentification()
    with pytest.raises(BanditlabError, match="weights"):
        LTALPolicy(weights=str(tmp_path / "none.npz")).reset(env.action_space,
                                                             env.observation_space)
    with pytest.raises(BanditlabError, match="decision"):
        LTALPolicy(decision="vote").reset(env.action_space, env.observation_space)
    save_policy(tmp_path / "p.npz", init_params(SIZES, np.random.default_rng(0)), SIZES, {})
    with pytest.raises(BanditlabError, match="inputs"):
        LTALPolicy(weights=str(tmp_path / "p.npz")).reset(env.action_space,
                                                           env.observation_space)


def test_adversary_finds_instances_harder_than_the_class_average():
    prov = SyntheticBAI(n=3)
    rng = np.random.default_rng(0)
    r = 8.0
    held_out = [prov.sample_instance(rng, r) for _ in range(12)]
    sim = AgentSim(RoundRobinMLE(budget=6), "synthetic_bai", {"n": 3}, 6)
    res = evaluate_algorithm(sim.run, prov, r, held_out, 30, rng, adv_pool=6, adv_iters=4)
    assert res["worst"] > res["mean"] + 0.05
    params = init_params(SIZES, rng)
    res_pi = evaluate_algorithm(policy_run_fn(params, SIZES, prov, 6), prov, r, held_out, 30,
                                rng, adv_pool=6, adv_iters=4)
    assert 0 <= res_pi["mean"] <= res_pi["worst"] <= 1


def test_flat_policy_training_lowers_the_loss_of_the_initial_policy(tmp_path):
    """The flat architecture (the one used for thresholds and 20 Questions) learns.

    BAI n = 3, T = 6, two classes (r = 4, 8), linear softmax policies over the whole
    observation, 60 iterations per class: the trained π_r and π* have a clearly lower
    held-out loss than the initial policy they started from (measured: 0.131 -> 0.082 for
    π_r0 on r = 4), and π* is no worse than π_r on r's own class (within 3 standard errors).
    It does not beat uniform round robin (0.039 here); the ``arms`` architecture does
    (:func:`test_reduced_done_when_robust_policy_beats_uniform`).
    """
    cfg = LTALConfig(provider_kwargs={"n": 3}, budget=6, class_r1=4.0, n_classes=2, arch="flat",
                     pool_size=16, rollouts=16, iters_class=60, iters_robust=30, init="random")
    res = train_ltal(cfg, tmp_path, progress=False)
    prov = SyntheticBAI(n=3)
    rng = np.random.default_rng(5)
    sim = PolicySim(prov, 6)
    sizes = np.array([7, 6], dtype=np.int64)
    init = init_params(sizes, np.random.default_rng(0))  # an untrained policy, same init law
    held = [prov.sample_instance(rng, 4.0) for _ in range(300)]
    loss = {}
    for name in ("pi_r0", "pi_star"):
        p, s, _ = load_policy(res["policies"][name])
        loss[name] = sim.run(p, s, held, 20, rng)[3].mean()
    loss["init"] = sim.run(init, sizes, held, 20, rng)[3].mean()
    se = np.sqrt(0.25 / 6000)
    assert loss["pi_r0"] < loss["init"] - 6 * se
    assert loss["pi_star"] < loss["init"] - 3 * se
    # π* stays close to π_r on r's own class (measured: r = 4: π* 0.072, π_r0 0.075;
    # r = 8: π* 0.103, π_r1 0.116; the stage-2 warm start copies the best π_r)
    assert loss["pi_star"] <= loss["pi_r0"] + 3 * se
    held8 = [prov.sample_instance(rng, 8.0) for _ in range(300)]
    l8 = {}
    for name in ("pi_r1", "pi_star"):
        p, s, _ = load_policy(res["policies"][name])
        l8[name] = sim.run(p, s, held8, 20, rng)[3].mean()
    assert l8["pi_star"] <= l8["pi_r1"] + 3 * se


def test_round_robin_warm_start_balances_the_queries():
    sizes = np.array([11, 10], dtype=np.int64)
    from banditlab.agents.active.ltal import init_round_robin

    p = init_round_robin(sizes, np.random.default_rng(0))
    _, acts, _, _ = PolicySim(SyntheticBAI(n=5), 20).run(p, sizes, [np.zeros(5)], 200,
                                                          np.random.default_rng(1))
    counts = np.array([np.bincount(a[:20], minlength=5) for a in acts[0]])
    spread = counts.max(axis=1) - counts.min(axis=1)
    # one extra ask costs 2.5 logits: nearly, not exactly, round robin (measured 64 % <= 1)
    assert np.mean(spread <= 2) > 0.95 and np.mean(spread <= 1) > 0.5


def test_arm_features_by_hand():
    T, sigma = 8, 2.0
    counts = np.array([2.0, 0.0, 3.0, 1.0])
    means = np.array([0.5, 0.0, 1.0, -0.2])
    x = np.concatenate([counts / T, means, [6 / T]])
    out = np.zeros((4, N_ARM_FEATURES))
    arm_features(x, 4, T, sigma, out)
    # leader = arm 2 (mean 1.0), runner-up = arm 0 (0.5); arm 1 never pulled
    z0 = (0.5 / sigma) / np.sqrt(1 / 2 + 1 / 3)
    z3 = (1.2 / sigma) / np.sqrt(1 / 1 + 1 / 3)
    expected = np.array([
        [2 / 8, 0, 0, 1, 0.25, z0, 1 / np.sqrt(2), 0.75],
        [0, 1, 0, 0, 0, 0, 1, 0.75],
        [3 / 8, 0, 1, 0, 0.25, z0, 1 / np.sqrt(3), 0.75],
        [1 / 8, 0, 0, 0, 0.6, z3, 1, 0.75],
    ])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
    out_empty = np.zeros((4, N_ARM_FEATURES))
    arm_features(np.zeros(9), 4, T, sigma, out_empty)  # t = 0: nothing pulled, no leader
    np.testing.assert_array_equal(out_empty[:, [1, 6]], 1.0)
    assert not out_empty[:, [0, 2, 3, 4, 5, 7]].any()


ARM_SIZES = np.array([N_ARM_FEATURES, 5, 1], dtype=np.int64)


@pytest.fixture(scope="module")
def arm_params():
    rng = np.random.default_rng(4)
    p = init_params(ARM_SIZES, rng) * 3.0
    return p + 0.3 * rng.standard_normal(p.shape)


def test_arms_gradient_matches_finite_differences(arm_params):
    rng = np.random.default_rng(5)
    means = rng.standard_normal((3, 4))
    obs, acts, _, _ = ltal_rollouts(arm_params, ARM_SIZES, means, True, 1.0, 8, 2, 0, False,
                                    True, np.zeros((0, 0)), np.zeros((0, 0)), rng, ARCH_ARMS,
                                    1.5)
    X = np.ascontiguousarray(obs[:, :, :8].reshape(-1, 9))
    A = acts[:, :, :8].reshape(-1)
    w = rng.standard_normal(len(X))
    ent = 0.05
    feats = np.zeros((4, N_ARM_FEATURES))

    def surrogate(p):
        total = 0.0
        for k in range(len(X)):
            z = policy_logits(ARCH_ARMS, p, ARM_SIZES, X[k], 4, 8, 1.0, 1.5, feats)
            logp = z - z.max() - np.log(np.exp(z - z.max()).sum())
            total += -w[k] * logp[A[k]] + ent / len(X) * (np.exp(logp) * logp).sum()
        return total

    g = arms_policy_gradient(arm_params, ARM_SIZES, X, A, w, ent, 4, 8, 1.0, 1.5)
    for i in range(len(arm_params)):
        e = np.zeros_like(arm_params)
        e[i] = 1e-6
        fd = (surrogate(arm_params + e) - surrogate(arm_params - e)) / 2e-6
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_arms_policy_agent_matches_numba_rollouts(tmp_path, arm_params):
    path = tmp_path / "arms.npz"
    meta = {"arch": "arms", "prior": 1.5, "sigma": 1.0}
    save_policy(path, arm_params, ARM_SIZES, meta)
    theta = np.array([0.4, 0.0, 0.3, -0.5])
    n_ep = 600
    res = run(ActiveIdentification(provider_kwargs={"n": 4}, budget=8, n_episodes=n_ep,
                                   instance_mode="sequence", instances=[theta]),
              LTALPolicy(weights=str(path), budget=8), seed=0)
    env_loss = res.finals["loss"] / n_ep
    losses = policy_run_fn(arm_params, ARM_SIZES, SyntheticBAI(n=4), 8, meta=meta)(
        [theta], n_ep, np.random.default_rng(0))[2]
    pooled = (env_loss + losses.mean()) / 2
    assert abs(env_loss - losses.mean()) < 4 * np.sqrt(2 * pooled * (1 - pooled) / n_ep)
    # the greedy (argmax) agent is deterministic given the answers: same queries as the
    # kernel's logits predict at every step of an episode
    env = ActiveIdentification(provider_kwargs={"n": 4}, budget=8, n_episodes=1,
                               instance_mode="sequence", instances=[theta])
    agent = LTALPolicy(weights=str(path), budget=8, sample=False)
    obs, _ = env.reset(seed=1)
    agent.reset(env.action_space, env.observation_space, seed=2)
    feats = np.zeros((4, N_ARM_FEATURES))
    for _ in range(8):
        a = agent.act(obs)
        z = policy_logits(ARCH_ARMS, arm_params, ARM_SIZES, obs.astype(np.float64), 4, 8, 1.0,
                          1.5, feats)
        assert a == int(np.argmax(z))
        obs, *_ = env.step(a)
    with pytest.raises(BanditlabError, match="decision"):
        LTALPolicy(weights=str(path), budget=8, decision="head").reset(env.action_space,
                                                                       env.observation_space)


def test_untrained_arms_policy_is_close_to_round_robin():
    sizes = np.array([N_ARM_FEATURES, 1], dtype=np.int64)
    p = init_params(sizes, np.random.default_rng(0))
    sim = PolicySim(SyntheticBAI(n=5), 20, arch="arms", prior=2.0)
    _, acts, _, _ = sim.run(p, sizes, [np.zeros(5)], 200, np.random.default_rng(1))
    counts = np.array([np.bincount(a[:20], minlength=5) for a in acts[0]])
    spread = counts.max(axis=1) - counts.min(axis=1)
    # one extra ask costs 2 logits: nearly, not exactly, round robin (with 20 asks over 5
    # arms the spread is even unless some arm is two asks off; measured 45 % exact)
    assert np.mean(spread <= 2) > 0.95 and np.mean(spread == 0) > 0.3


def test_boundary_instances_lie_on_the_class_boundary():
    prov = SyntheticBAI(n=5)
    rng = np.random.default_rng(0)
    for r in (10.0, 80.0):
        for _ in range(10):
            th = prov.boundary_instance(rng, r)
            assert prov.rho(th) == pytest.approx(r, rel=1e-6) or prov.rho(th) < r
            assert np.all(np.abs(th) <= 3.0)
    pool = init_pool(prov, 20.0, 8, rng, boundary_frac=0.5)
    assert len(pool) == 8 and all(prov.rho(th) <= 20.0 * (1 + 1e-6) for th in pool)


@pytest.fixture(scope="module")
def trained_bai(tmp_path_factory):
    """π_r and π* for BAI n = 5, T = 20, classes r = 20, 40 (≈ 12 s on 2 cores)."""
    cfg = LTALConfig(provider_kwargs={"n": 5}, budget=20, class_r1=20.0, n_classes=2,
                     iters_class=150, iters_robust=100, pool_size=24, rollouts=16,
                     vstar_rollouts=64, seed=0)
    return train_ltal(cfg, tmp_path_factory.mktemp("ltal_bai"), progress=False)


def test_reduced_done_when_robust_policy_beats_uniform(trained_bai):
    """Reduced Done-when claim (BAI n = 5, T = 20, two classes, 150 + 100 iterations).

    Held-out: 200 instances × 30 episodes; worst case: an adversary trained against each
    algorithm (4 ascent steps on r = 40) from the same 12-instance start pool, its 3 best
    candidates re-estimated with 2000 episodes. Measured for training seeds 0 / 1 / 2
    (the test uses 0):

    * mean loss r = 20: uniform 0.090, π* 0.047 / 0.068 / 0.058, π_r0 0.052 / 0.070 / 0.082;
    * mean loss r = 40: uniform 0.126, π* 0.078 / 0.106 / 0.100, π_r1 0.108 / 0.120 / 0.110;
    * worst case r = 40: uniform 0.393, π* 0.304 / 0.350 / 0.332 (standard errors 0.011).

    The smallest margin, π* against uniform at r = 40 for seed 1, is 3.4 standard errors, so
    the mean is asserted at 3. Whether π_r degrades off its class is not consistent at this
    size (π_r1 is worse than π_r0 on r = 20 for seeds 0 and 1, π_r0 worse than π_r1 on
    r = 40 for seed 2), so it is reported by the benchmark, not asserted.
    """
    prov = SyntheticBAI(n=5)
    algos = {"uniform": round_robin_run_fn(5, 20)}
    for name, path in trained_bai["policies"].items():
        p, s, meta = load_policy(path)
        algos[name] = policy_run_fn(p, s, prov, 20, meta=meta)
    mean, mean_se, worst, worst_se = {}, {}, {}, {}
    for m, r in enumerate(trained_bai["grid"]):
        rng = np.random.default_rng(m)
        held = [prov.sample_instance(rng, r) for _ in range(200)]
        start = init_pool(prov, r, 12, rng, boundary_frac=0.5)
        for name, fn in algos.items():
            e = evaluate_algorithm(fn, prov, r, held, 30, np.random.default_rng(9),
                                   start_pool=start, adv_iters=4 if m == 1 else 0,
                                   final_rollouts=2000)
            mean[name, m], mean_se[name, m] = e["mean"], e["mean_se"]
            worst[name, m], worst_se[name, m] = e["worst"], e["worst_se"]
    for m in (0, 1):
        se = np.hypot(mean_se["uniform", m], mean_se["pi_star", m])
        assert mean["pi_star", m] < mean["uniform", m] - 3 * se
        # π* stays close to the class's own policy on its class
        assert mean["pi_star", m] <= mean[f"pi_r{m}", m] + 3 * mean_se[f"pi_r{m}", m]
    # the hard class: π* beats uniform in the worst case found against each of them
    se = np.hypot(worst_se["uniform", 1], worst_se["pi_star", 1])
    assert worst["pi_star", 1] < worst["uniform", 1] - 2 * se


def test_vectorised_round_robin_matches_the_agent_through_the_env():
    theta = np.array([0.3, 0.0, 0.2, -0.4, 0.25])
    n_ep = 2000
    res = run(ActiveIdentification(provider_kwargs={"n": 5}, budget=10, n_episodes=n_ep,
                                   instance_mode="sequence", instances=[theta]),
              RoundRobinMLE(budget=10), seed=0)
    env_loss = res.finals["loss"] / n_ep
    xs, _, losses = round_robin_run_fn(5, 10)([theta], n_ep, np.random.default_rng(0))
    assert np.all(np.bincount(xs[0, 0], minlength=5) == 2)
    pooled = (env_loss + losses.mean()) / 2
    assert abs(env_loss - losses.mean()) < 4 * np.sqrt(2 * pooled * (1 - pooled) / n_ep)
    with pytest.raises(BanditlabError, match="budget"):
        round_robin_run_fn(5, 12)


def test_benchmark_script_smoke(tmp_path):
    """``benchmarks/bench_active_learning.py --smoke`` trains, evaluates and writes its outputs."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_active_learning.py"
    for config in ("3x6", "3x9"):  # a second call keeps the first call's record
        subprocess.run([sys.executable, str(script), "--smoke", "--configs", config, "--out",
                        str(tmp_path)], check=True, capture_output=True, timeout=300)
    records = json.loads((tmp_path / "results.json").read_text())
    assert [(rec["n"], rec["T"]) for rec in records] == [(3, 6), (3, 9)]
    for rec in records:
        assert set(rec["table"]) == {"uniform", "seq-halving", "LUCB@T", "C-tracking@T", "SGBS",
                                     "pi_r0", "pi_r1", "pi_star"}
        for row in rec["table"].values():
            assert len(row["mean"]) == len(row["worst"]) == len(rec["grid"]) == 2
            assert all(0 <= v <= 1 for v in row["mean"] + row["worst"])
    assert (tmp_path / "loss_vs_r.png").stat().st_size > 0
    assert (tmp_path / "loss_vs_T.png").stat().st_size > 0
