"""Question-equivariant LTAL policy on noisy 20 Questions: kernels, agent, shipped weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from banditlab.agents.active.ltal import batch_logits, init_params, load_policy, save_policy
from banditlab.agents.active.ltal_questions import (
    N_QUESTION_FEATURES,
    LTALQuestionPolicy,
    question_features,
    question_policy_gradient,
    question_rollouts,
    question_tables,
    shipped_weights,
)
from banditlab.agents.active.ltal_questions_train import (
    QuestionsConfig,
    agent_run_fn,
    class_members,
    evaluate_per_class,
    person_split,
    policy_run_fn,
    train_questions,
)
from banditlab.core import BanditlabError
from banditlab.envs.active.env import ActiveIdentification
from banditlab.envs.active.providers import P_CLIP, Q20
from banditlab.harness import run
from banditlab.registry import make_agent

ENV_ID = "banditlab/ActiveIdentification-v0"


@pytest.fixture(scope="module")
def q20():
    return Q20()


def _h2(q):
    q = np.clip(q, 1e-12, 1 - 1e-12)
    return -(q * np.log2(q) + (1 - q) * np.log2(1 - q))


def features_numpy(table, counts, sums, t, T):
    """Independent NumPy computation of the features of the module docstring."""
    p = np.clip(table, P_CLIP, 1 - P_CLIP)
    lp = sums @ np.log(p).T + (counts - sums) @ np.log1p(-p).T
    w = np.exp(lp - lp.max())
    w /= w.sum()
    order = np.argsort(-lp, kind="stable")
    h1, h2 = order[0], order[1]
    pm = w @ p
    yes = w @ (table >= 0.5)
    return np.column_stack([
        pm, _h2(pm), np.maximum(_h2(pm) - w @ _h2(p), 0), 2 * np.minimum(yes, 1 - yes),
        np.abs(p[h1] - p[h2]), w @ np.abs(p - p[h1]), counts / T, (counts > 0) * 1.0,
        np.full(len(counts), (T - t) / T), np.full(len(counts), w[h1]),
        np.full(len(counts), -(w[w > 0] * np.log(w[w > 0])).sum() / np.log(len(w))),
    ])


def _random_state(rng, n_q, t):
    counts = np.zeros(n_q)
    np.add.at(counts, rng.integers(0, n_q, t), 1.0)
    sums = np.floor(counts * rng.random(n_q))
    return counts, sums


def test_features_match_an_independent_numpy_computation(q20):
    rng = np.random.default_rng(0)
    tab = question_tables(q20.table)
    n_h, n_q = q20.table.shape
    w, acc, out = np.zeros(n_h), np.zeros((4, n_q)), np.zeros((n_q, N_QUESTION_FEATURES))
    for t in (0, 1, 7, 19):
        counts, sums = _random_state(rng, n_q, t)
        lp = sums @ tab.logp.T + (counts - sums) @ tab.log1mp.T
        question_features(tab, lp, counts, t, 20, w, acc, out)
        # persons below posterior 1e-9 are left out of the sums: absolute error <= 1e-7
        np.testing.assert_allclose(out, features_numpy(q20.table, counts, sums, t, 20),
                                   atol=1e-6, rtol=0)
    assert out.min() >= 0 and out.max() <= 1


SIZES = np.array([N_QUESTION_FEATURES, 4, 1], dtype=np.int64)


def test_gradient_matches_finite_differences_of_the_surrogate():
    rng = np.random.default_rng(1)
    table = rng.random((7, 9))
    tab = question_tables(table)
    params = init_params(SIZES, rng) * 3.0
    params += 0.3 * rng.standard_normal(params.shape)  # no pre-activation on the kink
    T, E, ent = 5, 6, 0.05
    q, a, _ = question_rollouts(params, SIZES, tab, table[:3], 2, T, True, rng)
    q, a = q.reshape(E, T), a.reshape(E, T)
    wts = rng.standard_normal(E)

    def surrogate(p):
        total = 0.0
        for e in range(E):
            counts, sums = np.zeros(9), np.zeros(9)
            for t in range(T):
                z = batch_logits(p, SIZES, features_numpy(table, counts, sums, t, T))[:, 0]
                logp = z - z.max() - np.log(np.exp(z - z.max()).sum())
                total += -wts[e] * logp[q[e, t]] + ent / (E * T) * (np.exp(logp) * logp).sum()
                counts[q[e, t]] += 1
                sums[q[e, t]] += a[e, t]
        return total

    g = question_policy_gradient(params, SIZES, tab, q, a, wts, ent, T)
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = 1e-6
        fd = (surrogate(params + e) - surrogate(params - e)) / 2e-6
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_rollouts_answer_with_the_persons_probabilities_and_decide_the_mle():
    rng = np.random.default_rng(2)
    table = np.array([[0.9, 0.2, 0.5], [0.1, 0.8, 0.5], [0.5, 0.5, 0.95]])
    tab = question_tables(table)
    params = init_params(np.array([N_QUESTION_FEATURES, 1]), rng)
    sizes = np.array([N_QUESTION_FEATURES, 1], dtype=np.int64)
    q, a, z = question_rollouts(params, sizes, tab, table[[0]], 6000, 4, True, rng)
    for x in range(3):  # answers are Bernoulli(p_{0, x}) whatever the policy asked
        asked = q[0] == x
        assert abs(a[0][asked].mean() - table[0, x]) < 4 * np.sqrt(0.25 / asked.sum())
    for b in range(20):  # the decision maximises the log-likelihood of the answers
        counts = np.bincount(q[0, b], minlength=3).astype(float)
        sums = np.bincount(q[0, b], weights=a[0, b], minlength=3)
        lp = sums @ tab.logp.T + (counts - sums) @ tab.log1mp.T
        assert lp[z[0, b]] == pytest.approx(lp.max())


def test_person_split_and_classes(q20):
    rhos = q20.person_rhos()
    train, held = person_split(rhos)
    assert len(train) == len(held) == 50 and not set(train) & set(held)
    ranks = np.argsort(np.argsort(rhos, kind="stable"), kind="stable")
    assert np.all(ranks[train] % 2 == 0) and np.all(ranks[held] % 2 == 1)
    members = class_members(held, rhos, QuestionsConfig.radii)
    assert [m.size for m in members] == sorted(m.size for m in members)
    assert members[-1].size == 50 and all(np.all(rhos[m] <= r)
                                         for m, r in zip(members, QuestionsConfig.radii,
                                                         strict=True))


def test_shipped_weights_load_from_package_data_without_training():
    """Fresh-install path: the weights are package data, read with allow_pickle=False."""
    import importlib.resources

    path = shipped_weights()
    root = importlib.resources.files("banditlab.agents.active") / "data"
    assert (root / "ltal_q20.npz").is_file() and (root / "ltal_q20.json").is_file()
    with np.load(path, allow_pickle=False) as f:
        assert set(f.files) == {"params", "sizes"}
    params, sizes, meta = load_policy(path)
    assert meta["arch"] == "questions" and meta["budget"] == 20
    assert sizes[0] == N_QUESTION_FEATURES and sizes[-1] == 1 and params.size < 1000
    assert "ltal_questions_train" in meta["training"]["command"]
    env = ActiveIdentification(provider="q20", budget=20)
    agent = make_agent("LTALQuestionPolicy-v0")  # defaults: the shipped weights and table
    obs, _ = env.reset(seed=0)
    agent.reset(env.action_space, env.observation_space, seed=0)
    np.testing.assert_array_equal(agent.params_, params)
    assert agent.label() == "LTAL [question-equivariant reconstruction]"
    assert 0 <= agent.act(obs) < 500


def test_agent_through_the_env_matches_the_kernel(q20):
    """Argmax agent: each query is the argmax of independently computed logits, and the
    env loss agrees with the Numba rollouts (which the evaluation uses) within 4 s.e."""
    params, sizes, _ = load_policy(shipped_weights())
    T = 6
    env = ActiveIdentification(provider="q20", budget=T, n_episodes=2,
                               instance_mode="sequence", instance_ids=[3, 40])
    agent = LTALQuestionPolicy(budget=T, hypothesis_table=q20.table)
    obs, _ = env.reset(seed=1)
    agent.reset(env.action_space, env.observation_space, seed=2)
    for _ in range(2):
        counts, sums = np.zeros(500), np.zeros(500)
        for t in range(T):
            a = agent.act(obs)
            z = batch_logits(params, sizes, features_numpy(q20.table, counts, sums, t, T))[:, 0]
            assert z[a] >= z.max() - 1e-9
            obs, _, _, _, info = env.step(a)
            counts[a] += 1
            sums[a] += info["response"]
        obs, _, term, _, info = env.step(agent.act(obs))
        assert term
        obs, _ = env.reset()
    persons = [3, 40, 77]
    n_ep = 150
    res = run((ENV_ID, {"provider": "q20", "budget": T, "n_episodes": n_ep * 3,
                        "instance_mode": "sequence", "instance_ids": persons}),
              LTALQuestionPolicy(budget=T, hypothesis_table=q20.table), seed=0)
    env_loss = res.finals["loss"] / (3 * n_ep)
    kernel = policy_run_fn(params, sizes, q20.table, T)(persons, n_ep, np.random.default_rng(0))
    pooled = (env_loss + kernel.mean()) / 2
    assert abs(env_loss - kernel.mean()) < 4 * np.sqrt(2 * pooled * (1 - pooled) / (3 * n_ep))


def test_reduced_done_when_shipped_policy_on_held_out_persons(q20):
    """Reduced Done-when: T = 20, held-out persons of every class, 8 + 8 episodes each.

    The shipped π* beats uniform querying in mean loss and in the loss of the worst person
    (selected on the first batch, scored on the second) on every class, and its mean loss
    is within 0.05 of information-gain greedy's (full-size numbers in
    :mod:`banditlab.agents.active.ltal_questions_train` and ``data/ltal_q20.json``).
    """
    from banditlab.agents.active.baselines import InfoGainGreedy, RoundRobinMLE

    rhos = q20.person_rhos()
    _, held = person_split(rhos)
    members = class_members(held, rhos, QuestionsConfig.radii)
    params, sizes, _ = load_policy(shipped_weights())
    kw = {"budget": 20, "problem": "table", "hypothesis_table": q20.table}
    algos = {"ltal": policy_run_fn(params, sizes, q20.table, 20),
             "uniform": agent_run_fn(RoundRobinMLE(**kw), 20, q20.table),
             "info": agent_run_fn(InfoGainGreedy(**kw), 20, q20.table)}
    res = evaluate_per_class(algos, members, episodes=8, seed=5)
    for m in range(len(members)):
        assert res["ltal"]["mean"][m] < res["uniform"]["mean"][m] - 0.3
        assert res["ltal"]["worst"][m] < res["uniform"]["worst"][m]
        assert res["ltal"]["mean"][m] <= res["info"]["mean"][m] + 0.05


def test_training_is_resumable_bit_for_bit(tmp_path):
    kw = dict(budget=4, radii=(0.95, 3.3), hidden=(3,), rollouts=2, iters_class=2,
              iters_robust=2, vstar_rollouts=2, checkpoint_every=2)
    full = train_questions(QuestionsConfig(**kw), tmp_path / "a", progress=False)
    assert full["done"] and len(full["v_star"]) == 2
    part = train_questions(QuestionsConfig(**kw), tmp_path / "b", progress=False, max_iters=3)
    assert not part["done"]
    assert json.loads((tmp_path / "b" / "state.json").read_text())["done_iters"] == 3
    rest = train_questions(QuestionsConfig(**kw), tmp_path / "b", progress=False)
    assert rest["v_star"] == full["v_star"]
    pa, _, meta = load_policy(tmp_path / "a" / "pi_star.npz")
    np.testing.assert_array_equal(pa, load_policy(tmp_path / "b" / "pi_star.npz")[0])
    assert meta["arch"] == "questions" and len(meta["train_pids"]) == 50
    with pytest.raises(BanditlabError, match="another config"):
        train_questions(QuestionsConfig(**{**kw, "seed": 1}), tmp_path / "b", progress=False)


def test_bad_inputs(tmp_path, q20):
    for bad, match in (({"radii": (1.2, 1.0)}, "radii"), ({"budget": 0}, "budget"),
                       ({"robust_init": "warm"}, "robust_init"), ({"radii": (0.1,)}, "radii")):
        with pytest.raises(BanditlabError, match=match):
            train_questions(QuestionsConfig(**bad), tmp_path / "x", progress=False)
    env = ActiveIdentification(provider="q20")
    small = ActiveIdentification(provider="q20", provider_kwargs={"n_persons": 50})
    bai = ActiveIdentification()
    save_policy(tmp_path / "flat.npz", np.zeros(4), np.array([1, 2]), {"arch": "flat"})
    cases = [
        (LTALQuestionPolicy(weights=str(tmp_path / "flat.npz")), env, "weights"),
        (LTALQuestionPolicy(weights=str(tmp_path / "none.npz")), env, "weights"),
        (LTALQuestionPolicy(), small, "hypothesis_table"),
        (LTALQuestionPolicy(problem="argmax"), bai, "problem"),
        (LTALQuestionPolicy(sample="yes"), env, "sample"),
    ]
    for agent, e, match in cases:
        with pytest.raises(BanditlabError, match=match):
            agent.reset(e.action_space, e.observation_space, seed=0)
    # binding the smaller env's table works
    agent = LTALQuestionPolicy(hypothesis_table=small.known_constants["hypothesis_table"])
    agent.reset(small.action_space, small.observation_space, seed=0)
    assert Path(shipped_weights()).is_file()
