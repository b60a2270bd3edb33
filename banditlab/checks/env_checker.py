"""Conformance checks for banditlab environments.

Each ``check_*`` function takes an env subject (a registered id, an ``(id,
kwargs)`` pair, an ``EnvSpec``, an env instance or a zero-argument factory),
builds fresh envs from it, and raises ``AssertionError`` whose message says what
went wrong and its most likely cause. Message texts are the module constants
below (dm_env's ``test_utils`` habit); the structure follows Gymnasium's
``utils/env_checker.py``.

Run them all with :func:`banditlab.checks.check_env`.
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env as gym_check_env

from banditlab.checks._common import (
    MAX_EPISODE_STEPS,
    candidate_actions,
    env_subject,
    first_difference,
    generator_states,
    global_random_state,
    random_action,
)
from banditlab.core import (
    INFO_EPISODE,
    INFO_EXPECTED_REWARD,
    INFO_LOSS,
    INFO_OPTIMAL_EXPECTED_REWARD,
    INFO_T,
    RUN_KINDS,
    KernelEnv,
    Oracle,
    RegretKind,
    spawn_env_streams,
)

__all__ = [
    "check_env_attributes",
    "check_gymnasium_api",
    "check_info_contract",
    "check_run_structure",
    "check_no_global_random",
    "check_determinism",
    "check_crn",
    "check_pickle",
    "check_kernel_step_parity",
    "check_fused_parity",
    "check_oracle_consistency",
    "env_checks",
]

# --------------------------------------------------------------------------- messages
ATTRIBUTES_MISSING = (
    "the env lacks the banditlab attributes ({details}). Most likely cause: `__init__` does not "
    "set `run_length`, `oracle` (a banditlab.core.Oracle) and `known_constants`, or the class "
    "does not declare `run_kind` ('continuing' or 'episodic') and `extra_metrics`."
)
REGRET_KINDS_INVALID = (
    "the oracle's regret kinds are inconsistent ({details}). Most likely cause: `primary_kind` "
    "is not a key of `regret_kinds`, is not declared `per_step`, or a value is not a RegretKind."
)
GYMNASIUM_WARNED = (
    "Gymnasium's env checker warned: {details}. Most likely cause: an observation outside "
    "`observation_space`, a wrong dtype, or `reset` not calling `super().reset(seed=seed)`."
)
INFO_KEY_MISSING = (
    "step {step}: info lacks {key!r}. Most likely cause: `step` does not fill the info contract "
    "of banditlab.core (t and expected_reward every step; episode for episodic envs)."
)
INFO_NOT_FINITE = (
    "step {step}: info[{key!r}] = {value!r} is not a finite number. Most likely cause: a "
    "division by zero or an uninitialised value in the expected-reward computation."
)
INFO_T_WRONG = (
    "step {step}: info['t'] = {value!r}, expected {expected}. Most likely cause: `t` must count "
    "steps completed in the run (continuing) or in the episode (episodic), after this step."
)
OPTIMAL_WITHOUT_PRIMARY = (
    "step {step}: info has 'optimal_expected_reward' but oracle.primary_kind is None. Most "
    "likely cause: emit it only when the oracle declares a primary per-step kind."
)
OPTIMAL_MISSING = (
    "step {step}: oracle.primary_kind = {kind!r} but info lacks 'optimal_expected_reward'. "
    "Most likely cause: `step` does not copy the primary comparator into info."
)
DOMINANCE_VIOLATED = (
    "step {step}: expected_reward {expected!r} > optimal_expected_reward {optimal!r} although "
    "the primary kind {kind!r} is per_step and nonnegative. Most likely cause: a wrong "
    "comparator (not the best action) or expected_reward computed after the state changed."
)
LOSS_NOT_NEGATED = (
    "step {step}: info['loss'] = {loss!r} but reward = {reward!r}. Most likely cause: "
    "loss-framed envs must return reward = -loss."
)
REWARD_NOT_FINITE = (
    "step {step}: reward {reward!r} is not a finite float. Most likely cause: an unguarded "
    "computation in `step`."
)
CONTINUING_TERMINATED = (
    "continuing env returned terminated=True at step {step}. Most likely cause: continuing "
    "runs never terminate; only `truncated` is set, exactly at run_length."
)
TRUNCATED_EARLY = (
    "continuing env returned truncated={truncated} at step {step} with run_length {run_length}. "
    "Most likely cause: `truncated` must be True exactly when t == run_length."
)
EPISODE_NOT_TERMINATED = (
    "episodic env: episode {episode} did not terminate within {steps} steps. Most likely "
    "cause: every episode must end with terminated=True."
)
EPISODIC_TRUNCATED = (
    "episodic env returned truncated=True at step {step} of episode {episode}. Most likely "
    "cause: episodes end with terminated=True; truncation is not part of an episodic run."
)
EPISODE_NOT_CONTINUED = (
    "episodic env: after reset() without a seed, info['episode'] = {value!r}, expected "
    "{expected}. Most likely cause: reset() must continue the run with the next episode and "
    "reset(seed=...) must start a new run at episode 0."
)
GLOBAL_RANDOM_USED = (
    "the {what} changed NumPy's or Python's global random state. Most likely cause: a call to "
    "np.random.<fn> or random.<fn>; draw only from self.np_random and its spawned streams."
)
NOT_DETERMINISTIC = (
    "two envs reset with the same seed diverged: {details}. Most likely cause: randomness "
    "outside self.np_random (global np.random, time, hash of objects) or state surviving reset."
)
RESET_NOT_RESTARTING = (
    "reset(seed=s) after a run did not reproduce the first run: {details}. Most likely "
    "cause: state that `reset` does not rebuild (counters, caches, the oracle's running sums)."
)
CRN_VIOLATED = (
    "common random numbers broken: after the same history, actions {a!r} and {b!r} leave "
    "different generator states ({details}). Most likely cause: the number of draws per step "
    "depends on the action; draw a fixed number of values from the noise stream every step."
)
NOT_PICKLABLE = (
    "the env does not survive pickling ({details}). Most likely cause: a lambda, an open "
    "resource or a compiled object in an attribute; rebuild it in __setstate__."
)
PICKLE_DIVERGED = (
    "an env restored from pickle {when} behaves differently from the original: {details}. "
    "Most likely cause: state that __getstate__/__setstate__ drops or rebuilds differently."
)
KERNEL_STEP_MISMATCH = (
    "the env's Python step disagrees with its EnvKernel driven directly: {details}. Most "
    "likely cause: `step`/`reset` do work the kernel does not (extra draws, different state), "
    "or the streams are not spawned with banditlab.core.spawn_env_streams."
)
KERNEL_OPTIMAL_NOT_NAN = (
    "EnvKernel.step returned optimal_expected_reward {value!r} although oracle.primary_kind is "
    "None. Most likely cause: return NaN when the env has no primary per-step kind."
)
KERNEL_CHECKPOINT_LAYOUT = (
    "EnvKernel.checkpoint returned {got} values, expected {expected} (2 per comparator kind "
    "plus 1 per extra metric). Most likely cause: a layout that does not match "
    "`comparator_kinds` and `extra_metrics`."
)
FUSED_MISMATCH = (
    "the fused Numba loop and the Gymnasium loop disagree: {details}. Most likely cause: the "
    "EnvKernel and the Python class compute different things, or the kernel draws from a "
    "different stream."
)
HARNESS_MISSING = (
    "banditlab.harness.run is not importable ({details}); the fused-path parity check needs it."
)
COMPARATOR_INVALID = (
    "oracle.comparator({kind!r}, {t}) returned {value!r}. Most likely cause: it must return a "
    "(realised, expected) pair of finite floats for every non-paired kind."
)
NEGATIVE_PSEUDO_REGRET = (
    "kind {kind!r} is declared nonnegative but pseudo-regret of a random rollout is {value!r} "
    "after {t} rounds (seed {seed}). Most likely cause: a comparator that is not optimal for "
    "the kind, or expected rewards on a different scale."
)
UNIFORM_NO_REGRET = (
    "a uniformly random policy has pseudo-regret {value!r} on the primary kind {kind!r} over "
    "{rounds} rounds. Most likely cause: optimal_expected_reward equals the expected reward "
    "of every action (a degenerate comparator); declare xfail_checks if that is intended."
)
OPTIMAL_POLICY_REGRET = (
    "the oracle's 'optimal' benchmark policy has pseudo-regret {value!r} on the primary kind "
    "{kind!r} (expected 0). Most likely cause: benchmark_policies()['optimal'] does not play "
    "the comparator of the primary kind."
)

#: Steps of the short rollouts (continuing envs).
ROLLOUT_STEPS = 50
#: Cap on the total number of steps of episodic rollouts (at most 3 episodes).
ROLLOUT_MAX_STEPS = 200
ROLLOUT_EPISODES = 3


# --------------------------------------------------------------------------- rollouts
def _is_episodic(env) -> bool:
    return getattr(env, "run_kind", "continuing") == "episodic"


def _rollout(
    env,
    seed: int,
    *,
    n_steps: int = ROLLOUT_STEPS,
    actions: list | None = None,
    action_seed: int = 12345,
    reset: bool = True,
    last_info: dict | None = None,
    trace: list | None = None,
    reset_after_last: bool = False,
) -> tuple[list, list, dict | None]:
    """Play random (or given) actions, following episodes and run ends.

    Continuing envs stop when truncated; episodic envs call ``reset()`` after
    each ``terminated`` and stop after ``run_length`` or :data:`ROLLOUT_EPISODES`
    episodes, or :data:`ROLLOUT_MAX_STEPS` steps.

    Returns:
        ``(trace, actions, last_info)``: records ``("reset", obs, info)`` and
        ``("step", action, obs, reward, terminated, truncated, info)``.
    """
    trace = [] if trace is None else trace
    rng = np.random.default_rng(action_seed)
    info = last_info
    if reset:
        obs, info = env.reset(seed=seed)
        trace.append(("reset", obs, info))
    played: list = []
    episodic = _is_episodic(env)
    episodes_done = 0
    max_episodes = min(int(env.run_length), ROLLOUT_EPISODES)
    i = 0
    while i < (len(actions) if actions is not None else n_steps):
        a = actions[i] if actions is not None else random_action(env, rng, info)
        obs, reward, terminated, truncated, info = env.step(a)
        trace.append(("step", a, obs, reward, terminated, truncated, info))
        played.append(a)
        i += 1
        if episodic and terminated:
            episodes_done += 1
            if actions is None and episodes_done >= max_episodes:
                break
            if actions is not None and i >= len(actions) and not reset_after_last:
                break
            obs, info = env.reset()
            trace.append(("reset", obs, info))
        elif truncated and not episodic:
            break
    return trace, played, info


def _subject_and_env(env):
    subject = env_subject(env)
    return subject, subject.make()


# --------------------------------------------------------------------------- checks
def check_env_attributes(env: Any) -> None:
    """The env declares ``run_kind``, ``run_length``, ``oracle``, ``known_constants``."""
    _, e = _subject_and_env(env)
    problems = []
    if getattr(e, "run_kind", None) not in RUN_KINDS:
        problems.append(f"run_kind={getattr(e, 'run_kind', None)!r}")
    rl = getattr(e, "run_length", None)
    if isinstance(rl, bool) or not isinstance(rl, (int, np.integer)) or rl < 1:
        problems.append(f"run_length={rl!r}")
    if not isinstance(getattr(e, "oracle", None), Oracle):
        problems.append(f"oracle={type(getattr(e, 'oracle', None)).__name__}")
    kc = getattr(e, "known_constants", None)
    from collections.abc import Mapping

    if not isinstance(kc, Mapping):
        problems.append(f"known_constants={type(kc).__name__}")
    em = getattr(e, "extra_metrics", None)
    if not isinstance(em, tuple) or not all(isinstance(x, str) for x in em):
        problems.append(f"extra_metrics={em!r}")
    assert not problems, ATTRIBUTES_MISSING.format(details=", ".join(problems))
    kinds = e.oracle.regret_kinds
    bad = [k for k, v in kinds.items() if not isinstance(v, RegretKind)]
    pk = e.oracle.primary_kind
    if pk is not None and (pk not in kinds or not kinds[pk].per_step):
        bad.append(f"primary_kind={pk!r}")
    assert not bad, REGRET_KINDS_INVALID.format(details=", ".join(map(str, bad)))


def check_gymnasium_api(env: Any) -> None:
    """Gymnasium's ``check_env(env.unwrapped, skip_render_check=True)`` passes without warnings."""
    _, e = _subject_and_env(env)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(e, skip_render_check=True)
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    assert not messages, GYMNASIUM_WARNED.format(details=" | ".join(messages))


def _is_real(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _finite(x: Any) -> bool:
    return _is_real(x) and math.isfinite(float(x))


def check_info_contract(env: Any) -> None:
    """The ``info`` contract of :mod:`banditlab.core`, along a random rollout.

    ``t``, ``expected_reward`` (and ``episode``) every step, finite;
    ``optimal_expected_reward`` iff a primary kind, with ``expected <= optimal`` when
    that kind is per-step and nonnegative; ``loss == -reward``; finite extra metrics.
    """
    _, e = _subject_and_env(env)
    trace, _, _ = _rollout(e, seed=0, n_steps=min(int(e.run_length), ROLLOUT_MAX_STEPS))
    oracle = e.oracle
    pk = oracle.primary_kind
    kind = oracle.regret_kinds.get(pk) if pk is not None else None
    dominance = kind is not None and kind.per_step and kind.nonnegative
    episodic = _is_episodic(e)
    t = 0
    episode = 0
    step = 0
    for rec in trace:
        if rec[0] == "reset":
            if step:  # a reset after a terminated episode
                episode += 1
            t = 0
            continue
        _, _a, _obs, reward, _term, _trunc, info = rec
        step += 1
        t += 1
        assert _finite(reward), REWARD_NOT_FINITE.format(step=step, reward=reward)
        keys = [INFO_T, INFO_EXPECTED_REWARD] + ([INFO_EPISODE] if episodic else [])
        for key in keys:
            assert key in info, INFO_KEY_MISSING.format(step=step, key=key)
        assert _is_real(info[INFO_T]) and int(info[INFO_T]) == t, INFO_T_WRONG.format(
            step=step, value=info[INFO_T], expected=t
        )
        if episodic:
            assert _is_real(info[INFO_EPISODE]) and int(info[INFO_EPISODE]) == episode, (
                EPISODE_NOT_CONTINUED.format(value=info[INFO_EPISODE], expected=episode)
            )
        exp = info[INFO_EXPECTED_REWARD]
        assert _finite(exp), INFO_NOT_FINITE.format(step=step, key=INFO_EXPECTED_REWARD,
                                                    value=exp)
        if pk is None:
            assert INFO_OPTIMAL_EXPECTED_REWARD not in info, OPTIMAL_WITHOUT_PRIMARY.format(
                step=step
            )
        else:
            assert INFO_OPTIMAL_EXPECTED_REWARD in info, OPTIMAL_MISSING.format(step=step,
                                                                               kind=pk)
            opt = info[INFO_OPTIMAL_EXPECTED_REWARD]
            assert _finite(opt), INFO_NOT_FINITE.format(
                step=step, key=INFO_OPTIMAL_EXPECTED_REWARD, value=opt
            )
            if dominance:
                tol = 1e-9 * max(1.0, abs(float(opt)))
                assert float(exp) <= float(opt) + tol, DOMINANCE_VIOLATED.format(
                    step=step, expected=exp, optimal=opt, kind=pk
                )
        if INFO_LOSS in info:
            loss = info[INFO_LOSS]
            assert _finite(loss), INFO_NOT_FINITE.format(step=step, key=INFO_LOSS, value=loss)
            assert float(loss) == -float(reward), LOSS_NOT_NEGATED.format(
                step=step, loss=loss, reward=reward
            )
        for key in e.extra_metrics:
            if key in info:
                assert _finite(info[key]), INFO_NOT_FINITE.format(step=step, key=key,
                                                                  value=info[key])


def check_run_structure(env: Any) -> None:
    """Runs end as the run kind says.

    Continuing: truncated exactly at ``run_length``, never terminated. Episodic: every
    episode terminates, ``reset()`` continues with the next episode, ``reset(seed)`` restarts.
    """
    _, e = _subject_and_env(env)
    rng = np.random.default_rng(1)
    obs, info = e.reset(seed=0)
    if not _is_episodic(e):
        n = int(e.run_length)
        for step in range(1, n + 1):
            obs, _r, terminated, truncated, info = e.step(random_action(e, rng, info))
            assert not terminated, CONTINUING_TERMINATED.format(step=step)
            assert bool(truncated) == (step == n), TRUNCATED_EARLY.format(
                truncated=truncated, step=step, run_length=n
            )
        return
    n_episodes = min(int(e.run_length), ROLLOUT_EPISODES)
    for episode in range(n_episodes):
        if episode:
            obs, info = e.reset()
        for step in range(1, MAX_EPISODE_STEPS + 1):
            obs, _r, terminated, truncated, info = e.step(random_action(e, rng, info))
            assert int(info.get(INFO_EPISODE, -1)) == episode, EPISODE_NOT_CONTINUED.format(
                value=info.get(INFO_EPISODE), expected=episode
            )
            assert not truncated, EPISODIC_TRUNCATED.format(step=step, episode=episode)
            if terminated:
                break
        else:
            raise AssertionError(EPISODE_NOT_TERMINATED.format(episode=episode,
                                                               steps=MAX_EPISODE_STEPS))
    obs, info = e.reset(seed=0)
    _, _, _, _, info = e.step(random_action(e, rng, info))
    assert int(info.get(INFO_EPISODE, -1)) == 0, EPISODE_NOT_CONTINUED.format(
        value=info.get(INFO_EPISODE), expected=0
    )


def check_no_global_random(env: Any) -> None:
    """Construction, reset and a short rollout leave the global random states untouched."""
    subject = env_subject(env)
    before = global_random_state()
    e = subject.factory().unwrapped  # run the constructor itself, not a cached copy
    assert first_difference(before, global_random_state()) is None, GLOBAL_RANDOM_USED.format(
        what="env constructor"
    )
    _rollout(e, seed=0)
    after = global_random_state()
    assert first_difference(before, after) is None, GLOBAL_RANDOM_USED.format(
        what="env's reset/step"
    )


def check_determinism(env: Any) -> None:
    """Two envs on one seed give identical 50-step rollouts.

    The two envs are stepped alternately (so global state shows up), and
    ``reset(seed)`` on the used env must reproduce the first run.
    """
    subject = env_subject(env)
    a, b = subject.make(), subject.make()
    rng = np.random.default_rng(2)
    trace_a: list = []
    trace_b: list = []
    obs_a, info_a = a.reset(seed=7)
    obs_b, info_b = b.reset(seed=7)
    trace_a.append(("reset", obs_a, info_a))
    trace_b.append(("reset", obs_b, info_b))
    actions = []
    episodic = _is_episodic(a)
    episodes = 0
    for _ in range(min(ROLLOUT_STEPS, ROLLOUT_MAX_STEPS)):
        act = random_action(a, rng, info_a)
        actions.append(act)
        ra = a.step(act)
        rb = b.step(act)
        trace_a.append(("step", act, *ra))
        trace_b.append(("step", act, *rb))
        info_a = ra[4]
        d = first_difference(ra, rb, f"step {len(actions)}")
        assert d is None, NOT_DETERMINISTIC.format(details=d)
        if episodic and ra[2]:
            episodes += 1
            if episodes >= int(a.run_length):
                break
            ra0, rb0 = a.reset(), b.reset()
            trace_a.append(("reset", *ra0))
            trace_b.append(("reset", *rb0))
            info_a = ra0[1]
            d = first_difference(ra0, rb0, f"reset after step {len(actions)}")
            assert d is None, NOT_DETERMINISTIC.format(details=d)
        elif ra[3] and not episodic:
            break
    d = first_difference(trace_a, trace_b, "trace")
    assert d is None, NOT_DETERMINISTIC.format(details=d)
    again, _, _ = _rollout(a, seed=7, actions=actions)
    d = first_difference(trace_a, again, "trace")
    assert d is None, RESET_NOT_RESTARTING.format(details=d)


def check_crn(env: Any) -> None:
    """After the same history, every action leaves the env's generators in the same state.

    Compares ``bit_generator.state`` of every ``np.random.Generator`` attribute of
    the env (``np_random`` and the named streams such as ``noise_rng_``) after one
    step with each candidate action, at the start of the run and after a few steps.
    """
    subject = env_subject(env)
    probe = subject.make()
    rng = np.random.default_rng(3)
    _, prefix, _ = _rollout(probe, seed=5, n_steps=min(5, ROLLOUT_MAX_STEPS))
    for m in sorted({0, max(0, min(len(prefix), int(probe.run_length) - 1, 5))}):
        e = subject.make()
        trace, _, info = _rollout(e, seed=5, actions=prefix[:m], reset_after_last=True)
        cands = candidate_actions(e, rng, info)
        if len(cands) < 2:
            continue
        states = []
        for act in cands:
            e = subject.make()
            _rollout(e, seed=5, actions=prefix[:m], reset_after_last=True)
            e.step(act)
            states.append(generator_states(e))
        for act, st in zip(cands[1:], states[1:], strict=True):
            d = first_difference(states[0], st, "generators")
            assert d is None, CRN_VIOLATED.format(a=cands[0], b=act, details=d)


def check_pickle(env: Any) -> None:
    """A fresh env and an env pickled mid-run continue exactly like the original."""
    subject = env_subject(env)
    e = subject.make()
    try:
        fresh = pickle.loads(pickle.dumps(e))
    except Exception as exc:  # noqa: BLE001 - report any pickling failure
        raise AssertionError(NOT_PICKLABLE.format(details=f"{type(exc).__name__}: {exc}")) from exc
    t1, actions, _ = _rollout(e, seed=11, n_steps=30)
    t2, _, _ = _rollout(fresh, seed=11, actions=actions)
    d = first_difference(t1, t2, "trace")
    assert d is None, PICKLE_DIVERGED.format(when="before reset", details=d)
    e = subject.make()
    head, actions, info = _rollout(e, seed=13, n_steps=10)
    if head and head[-1][0] == "step" and head[-1][5] and not _is_episodic(e):
        return  # the run is already over (tiny run_length); nothing to continue
    if head and head[-1][0] == "step" and head[-1][4] and _is_episodic(e):
        done = sum(1 for rec in head if rec[0] == "step" and rec[4])
        if done >= int(e.run_length):
            return  # the run is over; nothing to continue
        _, info = e.reset()
    try:
        copy_ = pickle.loads(pickle.dumps(e))
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(NOT_PICKLABLE.format(details=f"mid-run, {type(exc).__name__}: "
                                                  f"{exc}")) from exc
    rng = np.random.default_rng(4)
    more = []
    t_orig: list = []
    t_copy: list = []
    episodes = sum(1 for rec in head if rec[0] == "step" and rec[4]) if _is_episodic(e) else 0
    for _ in range(20):
        act = random_action(e, rng, info)
        more.append(act)
        r1 = e.step(act)
        r2 = copy_.step(act)
        t_orig.append(r1)
        t_copy.append(r2)
        info = r1[4]
        if _is_episodic(e) and r1[2]:
            episodes += 1
            if episodes >= int(e.run_length):
                break
            t_orig.append(e.reset())
            t_copy.append(copy_.reset())
            info = t_orig[-1][1]
        elif r1[3] and not _is_episodic(e):
            break
    d = first_difference(t_orig, t_copy, "after unpickling")
    assert d is None, PICKLE_DIVERGED.format(when="mid-run", details=d)


def check_kernel_step_parity(env: Any) -> None:
    """For a :class:`KernelEnv`, ``reset``/``step`` equal the kernel driven directly.

    The kernel is run with streams spawned exactly as ``reset(seed)`` spawns them
    (Gymnasium's ``np_random(seed)`` then :func:`spawn_env_streams`).
    """
    from gymnasium.utils.seeding import np_random

    _, e = _subject_and_env(env)
    if not isinstance(e, KernelEnv):
        return
    seed = 17
    k = e.kernel
    obs, info = e.reset(seed=seed)
    root, _ = np_random(seed)
    init_rng, noise_rng, _, _ = spawn_env_streams(root)
    state = k.init(k.params, init_rng)
    kobs = e.kernel_obs_to_obs(k.observe(state, k.params))
    d = first_difference(obs, kobs, "reset observation")
    assert d is None, KERNEL_STEP_MISMATCH.format(details=d)
    rng = np.random.default_rng(6)
    n = min(int(e.run_length), ROLLOUT_STEPS)
    for step in range(1, n + 1):
        act = random_action(e, rng, info)
        obs, reward, _te, _tr, info = e.step(act)
        kr, ke, ko = k.step(state, k.params, e._validate_action(act), noise_rng)
        kobs = e.kernel_obs_to_obs(k.observe(state, k.params))
        d = (
            first_difference(reward, float(kr), f"step {step} reward")
            or first_difference(info[INFO_EXPECTED_REWARD], float(ke),
                                f"step {step} expected_reward")
            or first_difference(obs, kobs, f"step {step} observation")
        )
        if d is None and e.oracle.primary_kind is not None:
            d = first_difference(info[INFO_OPTIMAL_EXPECTED_REWARD], float(ko),
                                 f"step {step} optimal_expected_reward")
        assert d is None, KERNEL_STEP_MISMATCH.format(details=d)
        if e.oracle.primary_kind is None:
            assert math.isnan(float(ko)), KERNEL_OPTIMAL_NOT_NAN.format(value=ko)
    d = first_difference(generator_states(e).get("noise_rng_"),
                         noise_rng.bit_generator.state, "noise stream after the run")
    assert d is None, KERNEL_STEP_MISMATCH.format(details=d)
    got = np.asarray(k.checkpoint(state, k.params)).shape
    expected = 2 * len(k.comparator_kinds) + len(k.extra_metrics)
    assert got == (expected,), KERNEL_CHECKPOINT_LAYOUT.format(got=got, expected=expected)


def parity_agent(action_space: gym.Space):
    """The kernel agent the fused-parity check pairs an env with (uniform random actions)."""
    if isinstance(action_space, gym.spaces.Discrete):
        from banditlab.agents.classic.baselines import Uniform

        return Uniform()
    from banditlab.checks._agents import UniformBox

    return UniformBox()


def _harness_run():
    try:
        from banditlab.harness import run
    except Exception as exc:  # noqa: BLE001 - report why the harness is unusable
        raise AssertionError(
            HARNESS_MISSING.format(details=f"{type(exc).__name__}: {exc}")
        ) from exc
    return run


def compare_run_results(kernel_res, python_res) -> str | None:
    """First difference between two ``RunResult`` (wall-time metrics excluded)."""
    def strip(d):
        return {k: v for k, v in d.items() if "wall" not in k}

    return (
        first_difference(np.asarray(kernel_res.t), np.asarray(python_res.t), "t")
        or first_difference(strip(kernel_res.curves), strip(python_res.curves), "curves")
        or first_difference(strip(kernel_res.finals), strip(python_res.finals), "finals")
    )


def check_fused_parity(env: Any) -> None:
    """Fused and Gymnasium harness paths agree bit for bit, at every step.

    Applies to continuing :class:`KernelEnv` envs, paired with a uniform kernel agent.
    """
    subject, e = _subject_and_env(env)
    if not isinstance(e, KernelEnv) or _is_episodic(e):
        return
    run = _harness_run()
    n = min(int(e.run_length), ROLLOUT_MAX_STEPS)
    grid = np.arange(1, n + 1, dtype=np.int64)
    res_k = run(subject.make(), parity_agent(e.action_space), seed=3, run_length=n,
                checkpoints=grid, backend="kernel")
    res_p = run(subject.make(), parity_agent(e.action_space), seed=3, run_length=n,
                checkpoints=grid, backend="python")
    d = compare_run_results(res_k, res_p)
    assert d is None, FUSED_MISMATCH.format(details=d)


def _round_checkpoints(n: int) -> set[int]:
    pts = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, n}
    return {p for p in pts if p <= n}


def _pseudo_regret_rollout(
    e, seed: int, policy: Callable | None = None, *, oracle_agent=None
) -> tuple[int, dict[str, list[tuple[int, float, Any]]], float]:
    """Roll out random actions (or an oracle agent) and evaluate every non-paired kind.

    Returns:
        ``(rounds, per_kind, primary)``: rounds completed; for each kind a list of
        ``(t, pseudo_regret, comparator_value)`` at checkpoints; the primary kind's
        final pseudo-regret (``nan`` without one).
    """
    oracle = e.oracle
    pk = oracle.primary_kind
    kinds = {k: v for k, v in oracle.regret_kinds.items() if not v.paired}
    episodic = _is_episodic(e)
    rng = np.random.default_rng(seed + 1000)
    obs, info = e.reset(seed=seed)
    if oracle_agent is not None:
        sim = getattr(e, "simulator", None) if oracle_agent.get_tags()["needs_simulator"] else None
        oracle_agent.reset(e.action_space, e.observation_space, seed=seed, simulator=sim)
    n_rounds = min(int(e.run_length), ROLLOUT_EPISODES if episodic else ROLLOUT_STEPS)
    cps = _round_checkpoints(n_rounds)
    sum_exp = 0.0
    sum_opt = 0.0
    rounds = 0
    steps = 0
    out: dict[str, list] = {k: [] for k in kinds}
    while rounds < n_rounds and steps < ROLLOUT_MAX_STEPS + MAX_EPISODE_STEPS:
        if oracle_agent is not None:
            act = oracle_agent.act(obs)
        else:
            act = random_action(e, rng, info)
        nobs, r, term, trunc, info = e.step(act)
        if oracle_agent is not None:
            oracle_agent.update(obs, act, r, nobs, term)
        obs = nobs
        steps += 1
        sum_exp += float(info[INFO_EXPECTED_REWARD])
        if pk is not None:
            sum_opt += float(info[INFO_OPTIMAL_EXPECTED_REWARD])
        round_done = term if episodic else True
        if not round_done:
            continue
        rounds += 1
        if rounds in cps:
            for k in kinds:
                if k == pk:
                    out[k].append((rounds, sum_opt - sum_exp, (sum_opt, sum_opt)))
                    continue
                value = oracle.comparator(k, rounds)
                ok = (isinstance(value, tuple) and len(value) == 2
                      and all(_finite(v) for v in value))
                assert ok, COMPARATOR_INVALID.format(kind=k, t=rounds, value=value)
                out[k].append((rounds, float(value[1]) - sum_exp, value))
        if episodic and rounds < n_rounds:
            obs, info = e.reset()
        if trunc and not episodic:
            break
    primary = sum_opt - sum_exp if pk is not None else math.nan
    return rounds, out, primary


def check_oracle_consistency(env: Any) -> None:
    """The oracle's comparators agree with its declarations.

    Comparators are finite pairs; nonnegative kinds keep pseudo-regret >= 0 along random
    rollouts; a random policy has positive primary pseudo-regret; the oracle's ``optimal``
    benchmark policy (if any) has zero primary pseudo-regret.

    The last two apply only when the primary kind is per-step and nonnegative.
    """
    subject = env_subject(env)
    e = subject.make()
    oracle = e.oracle
    pk = oracle.primary_kind
    total_primary = 0.0
    total_rounds = 0
    for seed in (0, 1, 2):
        e = subject.make()
        rounds, per_kind, primary = _pseudo_regret_rollout(e, seed)
        total_rounds += rounds
        if pk is not None:
            total_primary += primary
        for k, rows in per_kind.items():
            if not oracle.regret_kinds[k].nonnegative:
                continue
            for t, pr, value in rows:
                scale = max(1.0, abs(float(value[1])))
                assert pr >= -1e-9 * scale, NEGATIVE_PSEUDO_REGRET.format(
                    kind=k, value=pr, t=t, seed=seed
                )
    if pk is None:
        return
    kind = oracle.regret_kinds[pk]
    if not (kind.per_step and kind.nonnegative):
        return
    assert total_primary > 0.0, UNIFORM_NO_REGRET.format(value=total_primary, kind=pk,
                                                         rounds=total_rounds)
    policies = e.oracle.benchmark_policies()
    if "optimal" in policies:
        e = subject.make()
        from banditlab.registry import make_benchmark_policy

        agent = make_benchmark_policy(e.oracle, "optimal")
        _, _, primary = _pseudo_regret_rollout(e, 0, oracle_agent=agent)
        assert abs(primary) <= 1e-9 * max(1.0, total_rounds), OPTIMAL_POLICY_REGRET.format(
            value=primary, kind=pk
        )


# --------------------------------------------------------------------------- registry of checks
_ALWAYS = (
    check_env_attributes,
    check_gymnasium_api,
    check_info_contract,
    check_run_structure,
    check_no_global_random,
    check_determinism,
    check_crn,
    check_pickle,
)


def env_checks(env_class: type) -> list[Callable[[Any], None]]:
    """The checks that apply to envs of ``env_class``, in running order."""
    checks = list(_ALWAYS)
    if isinstance(env_class, type) and issubclass(env_class, KernelEnv):
        checks.append(check_kernel_step_parity)
        if getattr(env_class, "run_kind", "continuing") == "continuing":
            checks.append(check_fused_parity)
    checks.append(check_oracle_consistency)
    return checks
