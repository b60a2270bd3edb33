"""Active identification env: Gymnasium contract, phases, CRN, data shipping, bad input."""

from __future__ import annotations

import csv
import importlib.resources
import pickle
import shutil
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from banditlab.core import BanditlabError
from banditlab.envs.active.env import ActiveIdentification
from banditlab.envs.active.providers import Q20, JesterLinear, load_q20
from banditlab.registry import make_env

ENV_ID = "banditlab/ActiveIdentification-v0"


@pytest.fixture(scope="module")
def q20_env():
    return ActiveIdentification(provider="q20", n_episodes=5)


def _play(env, rng, n_episodes):
    """Random valid actions; returns per-episode (rewards, infos)."""
    out = []
    for k in range(n_episodes):
        if k:
            env.reset()
        rewards, infos, done = [], [], False
        while not done:
            a = int(rng.choice(np.flatnonzero(env.unwrapped.action_mask())))
            _, r, done, trunc, info = env.step(a)
            assert trunc is False
            rewards.append(r)
            infos.append(info)
        out.append((rewards, infos))
    return out


@pytest.mark.parametrize("kwargs", [{}, {"provider": "thresholds"}, {"provider": "q20"},
                                    {"provider": "q20", "obs_mode": "history",
                                     "provider_kwargs": {"unknown": "category"}}])
def test_gymnasium_check_env_without_warnings(kwargs):
    env = make_env(ENV_ID, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)


def test_episode_structure_reward_and_info():
    env = make_env(ENV_ID, budget=7).unwrapped
    obs, info = env.reset(seed=3)
    assert set(info) == {"episode_index", "action_mask"} and info["episode_index"] == 0
    assert np.all(obs == 0)
    mask = info["action_mask"]  # the queries are valid at the first step
    assert mask.dtype == np.int8 and mask.tolist() == [1] * env.n_q + [0] * env.n_h
    episodes = _play(env, np.random.default_rng(0), 3)
    for k, (rewards, infos) in enumerate(episodes):
        assert len(rewards) == 8  # T queries + 1 decision
        assert all(r == 0.0 for r in rewards[:-1])
        assert [i["t"] for i in infos] == list(range(1, 9))
        assert all(i["episode_index"] == k and i["optimal_expected_reward"] == 0.0
                   for i in infos)
        last = infos[-1]
        assert rewards[-1] == -last["loss"] == last["expected_reward"]
        assert last["correct"] == 1.0 - last["loss"]
        # z* only in the oracle; it decides the loss
        for key in ("theta", "z_star", "rho", "instance_id", "complexity_class"):
            assert all(key not in i for i in infos)
    recs = env.oracle.episode_records()
    assert [r["loss"] for r in recs] == [-e[0][-1] for e in episodes]


def test_stats_observation_is_counts_means_and_time():
    env = ActiveIdentification(provider="thresholds", provider_kwargs={"n": 4}, budget=5)
    env.reset(seed=0)
    ys = {q: [] for q in range(4)}
    for q in [0, 2, 2, 3, 2]:
        obs, *_, info = env.step(q)
        ys[q].append(info["response"])
    counts = np.array([len(ys[q]) for q in range(4)])
    means = np.array([np.mean(ys[q]) if ys[q] else 0.0 for q in range(4)])
    np.testing.assert_allclose(obs, np.r_[counts / 5, means, 1.0])
    mask = env.action_mask()
    assert mask[:4].sum() == 0 and mask[4:].sum() == 5  # decision phase: n + 1 thresholds


def test_actions_outside_the_phase_mask_raise():
    env = ActiveIdentification(provider="synthetic_bai", budget=2)
    env.reset(seed=0)
    with pytest.raises(BanditlabError, match="not a query"):
        env.step(5)  # a hypothesis during the query phase
    env.step(0)
    env.step(1)
    with pytest.raises(BanditlabError, match="not a hypothesis"):
        env.step(1)  # a query at the decision step
    with pytest.raises(BanditlabError, match="action"):
        env.step(1.5)
    # the action space samples only valid actions of the current phase
    assert all(env.action_space.sample() >= 5 for _ in range(20))


def test_crn_one_noise_draw_per_query_whatever_the_query():
    states = []
    for q in range(5):
        env = ActiveIdentification(budget=3)
        env.reset(seed=11)
        env.step(q)
        states.append(env.noise_rng_.bit_generator.state)
    assert all(s == states[0] for s in states)
    # Gaussian responses: the same standard normal for every query
    envs = [ActiveIdentification(budget=3) for _ in range(2)]
    ys = []
    for env, q in zip(envs, (0, 3), strict=True):
        env.reset(seed=5)
        ys.append(env.step(q)[4]["response"] - env.oracle.theta[q])
    assert ys[0] == pytest.approx(ys[1])


def test_determinism_and_pickle_mid_run():
    env = make_env(ENV_ID, provider="thresholds").unwrapped
    env.reset(seed=4)
    for q in range(6):
        env.step(q)
    clone = pickle.loads(pickle.dumps(env))
    rest_a = _play(env, np.random.default_rng(1), 3)
    rest_b = _play(clone, np.random.default_rng(1), 3)
    assert [r for r, _ in rest_a] == [r for r, _ in rest_b]
    env2 = make_env(ENV_ID, provider="thresholds").unwrapped
    env2.reset(seed=4)
    for q in range(6):
        env2.step(q)
    assert [r for r, _ in _play(env2, np.random.default_rng(1), 3)] == [r for r, _ in rest_a]


def test_instance_options_and_sequence_mode(q20_env):
    env = q20_env
    env.reset(seed=0, options={"instance_id": 7})
    assert env.oracle.z_star == 7 and env.oracle.instance_id == 7
    seq = ActiveIdentification(provider="q20", instance_mode="sequence", instance_ids=[3, 9])
    seq.reset(seed=0)
    seen = []
    for _ in range(4):
        seen.append(seq.oracle.z_star)
        for _ in range(20):
            seq.step(0)
        seq.step(500)
        seq.reset()
    assert seen == [3, 9, 3, 9]
    th = np.full(5, 0.0)
    th[2] = 1.0
    bai = ActiveIdentification()
    bai.reset(seed=0, options={"instance": th})
    assert bai.oracle.z_star == 2


def test_complexity_class_restricts_instances():
    env = ActiveIdentification(provider="synthetic_bai", complexity_class=1, class_r1=10.0)
    env.reset(seed=2)
    rhos = []
    for _ in range(5):
        rhos.append(env.oracle.rho())
        for _ in range(20):
            env.step(0)
        env.step(5)
        env.reset()
    assert max(rhos) <= 20.0 * (1 + 1e-6)
    q = ActiveIdentification(provider="q20", complexity_class=0, class_r1=0.9)
    q.reset(seed=0)
    assert q.oracle.rho() <= 0.9


def test_q20_data_ships_with_the_package():
    root = importlib.resources.files("banditlab.envs.active") / "data" / "q20"
    for name in ("LICENSE", "README.md", "right_prob.csv", "wrong_prob.csv", "persons.csv",
                 "questions.csv", "person_rho.csv"):
        assert (root / name).is_file(), name
    assert "Apache License" in (root / "LICENSE").read_text()
    d = load_q20()
    assert d["right"].shape == d["wrong"].shape == (100, 500)
    # sanity statistics documented in the data README
    assert d["right"].mean() == pytest.approx(0.2515, abs=5e-5)
    assert d["wrong"].mean() == pytest.approx(0.5692, abs=5e-5)
    assert int(((d["right"] + d["wrong"]) > 1).sum()) == 1


def test_q20_binary_answer_probability(q20_env):
    p = q20_env.provider
    d = load_q20()
    np.testing.assert_allclose(p.table, d["right"] / (d["right"] + d["wrong"]))
    # empirical yes-rate of one person's answers to one question
    env = ActiveIdentification(provider="q20", budget=400, n_episodes=1)
    env.reset(seed=1, options={"instance_id": 4})
    ys = [env.step(17)[4]["response"] for _ in range(400)]
    pr = p.table[4, 17]
    assert abs(np.mean(ys) - pr) < 4 * np.sqrt(pr * (1 - pr) / 400) + 1e-9


def test_q20_unknown_category_frequencies():
    p = Q20(unknown="category")
    h, x = 1, 3
    r, w = p.right[h, x], p.wrong[h, x]
    u = np.random.default_rng(0).random(20000)
    ys = np.array([p.response(p.table[h], x, v, h) for v in u])
    unk = max(1 - r - w, 0)
    s = r + w + unk
    for val, prob in ((1.0, r / s), (0.0, w / s), (0.5, unk / s)):
        assert abs(np.mean(ys == val) - prob) < 0.015


def _write_bad_q20(tmp_path, mutate):
    src = importlib.resources.files("banditlab.envs.active") / "data" / "q20"
    for name in ("right_prob.csv", "wrong_prob.csv", "persons.csv"):
        shutil.copyfile(src / name, tmp_path / name)
    path = tmp_path / "right_prob.csv"
    rows = list(csv.reader(path.open()))
    mutate(rows)
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return str(tmp_path)


def test_bad_input_errors(tmp_path):
    with pytest.raises(BanditlabError, match="budget"):
        ActiveIdentification(budget=0)
    with pytest.raises(BanditlabError, match="provider"):
        ActiveIdentification(provider="nope")
    with pytest.raises(BanditlabError, match="instance_mode"):
        ActiveIdentification(instance_mode="x")
    with pytest.raises(BanditlabError, match="instances"):
        ActiveIdentification(provider="thresholds", instance_mode="sequence",
                             instances=[[0.2] * 24 + [1.5]])
    with pytest.raises(BanditlabError, match="complexity_class"):
        ActiveIdentification(complexity_class=99)

    def out_of_range(rows):
        rows[3][5] = "1.7"

    (tmp_path / "a").mkdir()
    with pytest.raises(BanditlabError, match=r"\[0, 1\]"):
        Q20(data_dir=_write_bad_q20(tmp_path / "a", out_of_range))

    def ragged(rows):
        rows[2] = rows[2][:10]

    (tmp_path / "b").mkdir()
    with pytest.raises(BanditlabError, match="fields"):
        Q20(data_dir=_write_bad_q20(tmp_path / "b", ragged))

    def text(rows):
        rows[4][2] = "abc"

    (tmp_path / "c").mkdir()
    with pytest.raises(BanditlabError, match="not numeric"):
        Q20(data_dir=_write_bad_q20(tmp_path / "c", text))


# --------------------------------------------------------------------------- Jester-style
def _jester_file(path, n_users=60, n_jokes=12, d=3, seed=0, missing=True):
    """A ratings file in the jester-data-1 layout from an exact rank-d model plus small noise."""
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((n_users, d))
    V = rng.standard_normal((n_jokes, d))
    R = np.clip(U @ V.T + 1.0 + 0.01 * rng.standard_normal((n_users, n_jokes)), -10, 10)
    R = np.round(R, 2)
    if missing:
        R[:5, 0] = 99.0  # five users with a missing joke
    counts = (R != 99).sum(axis=1)
    lines = [",".join([str(c)] + [f"{v:.2f}" for v in row]) for c, row in zip(counts, R,
                                                                           strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return R


def test_jester_linear_provider_recovers_a_low_rank_model(tmp_path):
    f = tmp_path / "jester.csv"
    R = _jester_file(f)
    p = JesterLinear(str(f), m=12, d=4)  # rank 3 plus the offset left by global centring
    full = R[5:]  # users who rated every joke
    assert p.users.shape == (55, 4) and p.features.shape == (12, 4)
    pred = p.users @ p.features.T + full.mean()
    assert np.abs(pred - full[:, p.jokes]).max() < 0.1
    assert p.sigma < 0.05
    # z* of a real user is that user's favourite joke among the arms
    fav = np.argmax(full[:, p.jokes], axis=1)
    assert np.mean([p.z_star(p.instance_from_id(u)) == fav[u] for u in range(55)]) > 0.9
    env = ActiveIdentification(provider="jester_linear",
                               provider_kwargs={"ratings_file": str(f), "m": 12, "d": 4},
                               instance_mode="sequence", instance_ids=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)


def test_jester_bad_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("3,1,2,3\n3,1,2\n")
    with pytest.raises(BanditlabError, match="same number"):
        JesterLinear(str(bad))
    bad.write_text("3,1,2,30\n3,1,2,3\n")
    with pytest.raises(BanditlabError, match=r"\[-10, 10\]"):
        JesterLinear(str(bad), m=2, d=1)
    bad.write_text("3,1,2,99\n3,1,2,3\n")
    with pytest.raises(BanditlabError, match="count"):
        JesterLinear(str(bad), m=2, d=1)
    with pytest.raises(BanditlabError, match="no such file"):
        JesterLinear(str(tmp_path / "missing.csv"))
