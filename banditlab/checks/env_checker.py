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

import copy
import functools
import gc
import math
import pickle
import traceback
import warnings
from collections.abc import Callable, Mapping
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
    INFO_ACTION_MASK,
    INFO_EPISODE,
    INFO_EXPECTED_REWARD,
    INFO_LOSS,
    INFO_OPTIMAL_EXPECTED_REWARD,
    INFO_T,
    RESERVED_INFO_KEYS,
    RESERVED_INFO_PREFIX,
    RUN_KINDS,
    BanditlabError,
    KernelEnv,
    Oracle,
    RegretKind,
    spawn_env_streams,
)

__all__ = [
    "check_env_attributes",
    "check_env_family",
    "check_gymnasium_api",
    "check_info_contract",
    "check_run_structure",
    "check_no_global_random",
    "check_determinism",
    "check_crn",
    "check_pickle",
    "check_no_reserved_info_keys",
    "check_action_mask_from_reset",
    "check_standard_wrappers",
    "check_vector_env",
    "check_kernel_step_parity",
    "check_fused_parity",
    "check_oracle_consistency",
    "check_benchmark_policies",
    "env_checks",
]

# --------------------------------------------------------------------------- messages
ATTRIBUTES_MISSING = (
    "the env lacks the banditlab attributes ({details}). Most likely cause: `__init__` does not "
    "set `run_length`, `oracle` (a banditlab.core.Oracle) and `known_constants`, or the class "
    "does not declare `run_kind` ('continuing' or 'episodic') and `extra_metrics`."
)
FAMILY_UNDECLARED = (
    "{cls} declares no `family`. Most likely cause: the class attribute is missing (the base "
    "class has no default); set `family = \"<name>\"` to a family declared with "
    "banditlab.registry.register_family (e.g. \"classic\")."
)
FAMILY_UNKNOWN = (
    "{cls}.family = {family!r} is not a declared family (known: {known}). Most likely cause: "
    "a typo, or the package never calls banditlab.registry.register_family({family!r}, "
    "title=...) before registering its envs."
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
    "of banditlab.core (t and expected_reward every step; episode_index for episodic envs)."
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
    "episodic env: after reset() without a seed, info['episode_index'] = {value!r}, expected "
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

BENCHMARK_POLICY_FAILED = (
    "oracle policy {name!r} ({what}) failed: {details}. Most likely cause: its BenchmarkPolicy "
    "names an unregistered agent id or hyperparameters the agent does not accept, or the "
    "agent cannot play the env (wrong action space, reads the oracle before the env's "
    "reset)."
)
BENCHMARK_POLICY_ORACLE = (
    "oracle policy {name!r} -> {agent_id!r}: {details}. Most likely cause: agents that read "
    "the live oracle take it as their `oracle` hyperparameter, are registered in the "
    "'oracle/' namespace with the tag needs_oracle=True, and receive this very oracle object "
    "(`oracle=self` in benchmark_policies())."
)
RESERVED_INFO_KEY = (
    "{where}: info has the key {key!r}, which Gymnasium's wrappers and vector envs reserve "
    "({reserved}, and every key starting with '_'). Most likely cause: an env key named like "
    "theirs, e.g. an episode counter called 'episode': RecordEpisodeStatistics then fails with a "
    "bare AssertionError and vector envs confuse '_<key>' with their own per-key masks; rename "
    "it (banditlab's episode counter is 'episode_index', banditlab.core.INFO_EPISODE)."
)
ACTION_MASK_MISSING = (
    "{where}: info has no 'action_mask' although the env emits one ({first}). Most likely "
    "cause: `reset` (or one branch of `step`) does not return the mask of the actions valid at "
    "the next step, so a client (a vector env, action_space.sample) cannot know the valid "
    "actions of the first step; put info['action_mask'] in every reset and every step."
)
ACTION_MASK_NEEDED = (
    "{where}: info has no 'action_mask' and the env rejected the action {action!r} drawn without "
    "one at the next step ({details}). Most likely cause: the env restricts actions but does not "
    "put the mask of the valid actions in that info, so a client cannot know them; put "
    "info['action_mask'] in every reset and every step."
)
ACTION_MASK_REJECTED = (
    "{where}: action_space.sample(mask=info['action_mask']) rejected the mask {mask} "
    "({details}). Most likely cause: the mask is not in the form Gymnasium's sample() takes "
    "(Discrete: an np.int8 array of shape (n,) with entries 0 or 1; MultiDiscrete: a tuple of "
    "such arrays), e.g. a bool array, a list, or the indices of the valid actions."
)
ACTION_MASK_EMPTY = (
    "{where}: info['action_mask'] allows no action. Most likely cause: the mask of the next "
    "step is computed for the wrong phase (or before the state changed)."
)
ACTION_MASK_STALE = (
    "{where}: the env rejected action {action!r} drawn with its own info['action_mask'] "
    "({details}). Most likely cause: the mask does not describe the actions valid at the next "
    "step (computed before the phase changed, or for the step just played)."
)
WRAPPERS_FAILED = (
    "RecordEpisodeStatistics(TimeLimit(env, {limit})) failed at {where}: {details}. Most likely "
    "cause: a reserved info key (RecordEpisodeStatistics asserts that 'episode' is not in the "
    "info of an episode's last step), a `reset` that fails when called after a truncation, or "
    "an action drawn with action_space.sample(mask=info['action_mask']) the env rejects."
)
EPISODE_STATISTICS_WRONG = (
    "RecordEpisodeStatistics(TimeLimit(env, {limit})): the episode ending at step {step} "
    "reports {stats!r}, expected length {length} and return {ret!r}. Most likely cause: the env "
    "writes into info['episode'] or returns the same info dict object at every step."
)
VECTOR_ENV_FAILED = (
    "{how} ({mode} mode, num_envs={num_envs}) failed at {where}: {details}. Most likely cause: "
    "a reserved info key (vector envs add '_<key>' masks and the autoreset info), an info value "
    "whose type or shape changes between steps or envs, an action mask missing from reset, an "
    "observation the vector env cannot batch, or (async) an env that does not build in a "
    "subprocess (a factory that cannot be pickled)."
)

#: Steps of the short rollouts (continuing envs).
ROLLOUT_STEPS = 50
#: Cap on the total number of steps of episodic rollouts (at most 3 episodes).
ROLLOUT_MAX_STEPS = 200
ROLLOUT_EPISODES = 3
#: Rounds (steps of continuing envs, episodes of episodic ones) each benchmark policy plays.
BENCHMARK_ROUNDS = 5
#: ``TimeLimit`` of :func:`check_standard_wrappers` and the steps it plays (so a limit is hit).
WRAPPER_TIME_LIMIT = 50
WRAPPER_STEPS = 60
#: Vector envs of :func:`check_vector_env`: modes, sub-envs, steps, and the ``TimeLimit`` of each
#: sub-env (short, so every sub-env autoresets during the check).
VECTOR_MODES = ("sync", "async")
VECTOR_NUM_ENVS = 2
VECTOR_STEPS = 25
VECTOR_TIME_LIMIT = 10


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


def check_env_family(env: Any) -> None:
    """The env class declares ``family``, a family declared with ``register_family``."""
    from banditlab.registry import known_families

    _, e = _subject_and_env(env)
    cls = type(e.unwrapped)
    family = getattr(cls, "family", None)
    assert isinstance(family, str), FAMILY_UNDECLARED.format(cls=cls.__name__)
    known = known_families()
    assert family in known, FAMILY_UNKNOWN.format(cls=cls.__name__, family=family,
                                                  known=", ".join(known))


def check_gymnasium_api(env: Any) -> None:
    """Gymnasium's ``check_env(env.unwrapped, skip_render_check=True)`` passes without warnings."""
    _, e = _subject_and_env(env)
    # Finalise unreachable objects first: a file some earlier code left open would warn
    # (ResourceWarning) whenever the collector runs, which may be inside the checker.
    gc.collect()
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


# --------------------------------------------------------------------------- Gymnasium conventions
def reserved_info_keys(info: Mapping[str, Any]) -> list[str]:
    """Keys of ``info`` that Gymnasium's wrappers or vector envs reserve (see banditlab.core)."""
    return [k for k in info if isinstance(k, str)
            and (k in RESERVED_INFO_KEYS or k.startswith(RESERVED_INFO_PREFIX))]


def _where(trace: list) -> list[tuple[str, dict]]:
    """``(label, info)`` of every record of a :func:`_rollout` trace."""
    out = []
    step = 0
    for rec in trace:
        if rec[0] == "reset":
            out.append(("reset(seed=...)" if not step else f"reset() after step {step}", rec[2]))
        else:
            step += 1
            out.append((f"step {step}", rec[6]))
    return out


def check_no_reserved_info_keys(env: Any) -> None:
    """No ``info`` of ``reset`` or ``step`` uses a key Gymnasium reserves.

    Reserved: :data:`banditlab.core.RESERVED_INFO_KEYS` (``episode``, ``_episode``,
    ``final_obs``, ``final_info``, ``final_observation``) and every key starting with
    :data:`banditlab.core.RESERVED_INFO_PREFIX` (``_``, the per-key masks of vector envs).
    """
    _, e = _subject_and_env(env)
    trace, _, _ = _rollout(e, seed=0, n_steps=min(int(e.run_length), ROLLOUT_MAX_STEPS))
    for where, info in _where(trace):
        bad = reserved_info_keys(info)
        assert not bad, RESERVED_INFO_KEY.format(
            where=where, key=bad[0], reserved=", ".join(map(repr, RESERVED_INFO_KEYS)))


class _Finding(AssertionError):
    """A failure message of this kit raised inside a ``try`` that wraps foreign exceptions."""


def _describe(exc: BaseException) -> str:
    """``Type: message``, or where a bare exception (``assert x``) was raised."""
    text = str(exc)
    if text:
        return f"{type(exc).__name__}: {text}"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    f = frames[-1]
    return (f"bare {type(exc).__name__} at {f.filename.rsplit('/', 1)[-1]}:{f.lineno} "
            f"`{(f.line or '').strip()}`")


def _plain(action: Any) -> Any:
    """A NumPy scalar action as a Python number (for messages)."""
    return action.item() if isinstance(action, np.generic) else action


def _short_mask(mask: Any) -> str:
    if isinstance(mask, np.ndarray):
        return f"{mask.dtype}{list(mask.shape)}"
    return f"{type(mask).__name__} {mask!r}"[:80]


def _sample_masked(space: gym.Space, info: Mapping[str, Any], where: str) -> Any:
    """``space.sample(mask=info["action_mask"])``, or ``space.sample()`` without a mask."""
    if INFO_ACTION_MASK not in info:
        return space.sample()
    mask = info[INFO_ACTION_MASK]
    try:
        action = space.sample(mask=mask)
    except Exception as exc:  # noqa: BLE001 - any rejection is the finding
        raise _Finding(ACTION_MASK_REJECTED.format(
            where=where, mask=_short_mask(mask), details=_describe(exc))) from exc
    if isinstance(space, gym.spaces.Discrete) and not np.any(mask):
        raise _Finding(ACTION_MASK_EMPTY.format(where=where))
    return action


def check_action_mask_from_reset(env: Any) -> None:
    """An env that restricts actions gives ``info["action_mask"]`` from ``reset`` on.

    Applies when the env ever emits ``action_mask``: then every ``reset`` and every ``step``
    carries it, ``action_space.sample(mask=...)`` accepts each mask (for ``Discrete``: an
    ``np.int8`` array of shape ``(n,)`` allowing at least one action), and the env accepts the
    actions drawn with it. Plays masked random actions over up to
    :data:`ROLLOUT_EPISODES` episodes (at most :data:`ROLLOUT_MAX_STEPS` steps).
    """
    _, e = _subject_and_env(env)
    space = copy.deepcopy(e.action_space)
    space.seed(0)
    rng = np.random.default_rng(0)
    episodic = _is_episodic(e)
    n_steps = min(int(e.run_length), ROLLOUT_MAX_STEPS) if not episodic else ROLLOUT_MAX_STEPS
    max_episodes = min(int(e.run_length), ROLLOUT_EPISODES)
    _, info = e.reset(seed=0)
    records = [("reset(seed=0)", info)]
    episodes = 0
    for step in range(1, n_steps + 1):
        where = records[-1][0]
        if INFO_ACTION_MASK in info:
            act = _sample_masked(space, info, f"the info of {where}")
            try:
                _, _, terminated, truncated, info = e.step(act)
            except Exception as exc:  # noqa: BLE001 - the env rejected its own mask
                raise AssertionError(ACTION_MASK_STALE.format(
                    where=f"step {step}", action=_plain(act), details=_describe(exc))) from exc
        else:
            act = random_action(e, rng, info)
            try:
                _, _, terminated, truncated, info = e.step(act)
            except Exception as exc:  # noqa: BLE001 - an action restriction without a mask
                _assert_masks_everywhere(records)
                raise AssertionError(ACTION_MASK_NEEDED.format(
                    where=where, action=_plain(act), details=_describe(exc))) from exc
        records.append((f"step {step}", info))
        if episodic and terminated:
            episodes += 1
            if episodes >= max_episodes:
                break
            _, info = e.reset()
            records.append((f"reset() after step {step}", info))
        elif (terminated or truncated) and not episodic:
            break
    _assert_masks_everywhere(records)


def _assert_masks_everywhere(records: list[tuple[str, Mapping[str, Any]]]) -> None:
    """Once any ``info`` of ``records`` has an action mask, every one has it."""
    emitting = [where for where, i in records if INFO_ACTION_MASK in i]
    if not emitting:
        return
    for where, i in records:
        assert INFO_ACTION_MASK in i, ACTION_MASK_MISSING.format(
            where=where, first=f"first at {emitting[0]}")


def check_standard_wrappers(env: Any) -> None:
    """The env runs under ``RecordEpisodeStatistics(TimeLimit(env, 50))``.

    Plays :data:`WRAPPER_STEPS` steps of ``action_space.sample(mask=info["action_mask"])``
    (plain ``sample()`` without a mask), resetting after every terminated or truncated
    episode; each finished episode must carry the wrapper's statistics (length and return).
    """
    from gymnasium.wrappers import RecordEpisodeStatistics, TimeLimit

    _, e = _subject_and_env(env)
    limit = WRAPPER_TIME_LIMIT
    where = "construction"
    try:
        w = RecordEpisodeStatistics(TimeLimit(e, limit))
        w.action_space.seed(0)
        where = "reset(seed=0)"
        _, info = w.reset(seed=0)
        length, ret = 0, 0.0
        for step in range(1, WRAPPER_STEPS + 1):
            act = _sample_masked(w.action_space, info, f"the info of {where}")
            where = f"step {step}"
            _, reward, terminated, truncated, info = w.step(act)
            length += 1
            ret += float(reward)
            if terminated or truncated:
                stats = info.get("episode")
                ok = (isinstance(stats, Mapping) and stats.get("l") == length
                      and math.isclose(float(stats.get("r", math.nan)), ret, rel_tol=1e-9,
                                       abs_tol=1e-9))
                if not ok:
                    raise _Finding(EPISODE_STATISTICS_WRONG.format(
                        limit=limit, step=step, stats=stats, length=length, ret=ret))
                where = f"reset() after step {step}"
                _, info = w.reset()
                length, ret = 0, 0.0
    except _Finding:
        raise
    except Exception as exc:  # noqa: BLE001 - any crash under the wrappers is the finding
        raise AssertionError(WRAPPERS_FAILED.format(limit=limit, where=where,
                                                    details=_describe(exc))) from exc


def _time_limited(subject, limit: int) -> gym.Env:
    """A deep copy of the subject's env under ``TimeLimit`` (factory of non-registered envs)."""
    from gymnasium.wrappers import TimeLimit

    return TimeLimit(subject.make(), max_episode_steps=limit)


def _make_vector_env(subject, mode: str) -> tuple[str, gym.vector.VectorEnv]:
    """``(how it was built, vector env)`` of :data:`VECTOR_NUM_ENVS` copies of the subject.

    A registered id goes through ``gym.make_vec`` (with the subject's constructor overrides,
    or the registered defaults when the env rejects them); an env built with ``gym.make``
    through its spec; anything else through ``SyncVectorEnv``/``AsyncVectorEnv`` over a
    factory deep-copying the subject's env. Every sub-env is under
    ``TimeLimit(VECTOR_TIME_LIMIT)``.
    """
    from gymnasium.wrappers import TimeLimit

    wrappers = [functools.partial(TimeLimit, max_episode_steps=VECTOR_TIME_LIMIT)]
    n = VECTOR_NUM_ENVS
    if subject.env_id is not None:
        how = f"gym.make_vec({subject.env_id!r})"
        try:
            return how, gym.make_vec(subject.env_id, num_envs=n, vectorization_mode=mode,
                                     wrappers=wrappers, **dict(subject.kwargs))
        except (BanditlabError, TypeError, ValueError):
            if not subject.kwargs_optional:
                raise
        return how, gym.make_vec(subject.env_id, num_envs=n, vectorization_mode=mode,
                                 wrappers=wrappers)
    spec = getattr(subject.make(), "spec", None)
    if spec is not None and spec.id in gym.registry:
        return (f"gym.make_vec(spec {spec.id!r})",
                gym.make_vec(spec, num_envs=n, vectorization_mode=mode, wrappers=wrappers))
    fn = functools.partial(_time_limited, subject, VECTOR_TIME_LIMIT)
    cls = gym.vector.SyncVectorEnv if mode == "sync" else gym.vector.AsyncVectorEnv
    return f"{cls.__name__} over copies of {subject.name}", cls([fn] * n)


def _vector_actions(space: gym.Space, info: Mapping[str, Any], n: int) -> Any:
    """One action per sub-env, each drawn with that sub-env's mask when it has one."""
    from gymnasium.vector.utils import concatenate, create_empty_array

    masks = info.get(INFO_ACTION_MASK)
    present = info.get(RESERVED_INFO_PREFIX + INFO_ACTION_MASK)
    items = []
    for i in range(n):
        has = masks is not None and (present is None or bool(present[i]))
        items.append(_sample_masked(space, {INFO_ACTION_MASK: masks[i]} if has else {},
                                    f"the batched info['action_mask'][{i}]"))
    return concatenate(space, items, create_empty_array(space, n=n))


def check_vector_env(env: Any) -> None:
    """The env runs in ``gym.make_vec`` vector envs, sync and async, with masked random actions.

    For each mode of :data:`VECTOR_MODES`: :data:`VECTOR_NUM_ENVS` sub-envs, each under
    ``TimeLimit(VECTOR_TIME_LIMIT)`` so that autoreset happens, play :data:`VECTOR_STEPS`
    steps; each sub-env's action is ``single_action_space.sample(mask=...)`` with its row of the
    batched ``info["action_mask"]`` (plain ``sample()`` without one). Rewards must be finite.
    Third-party envs that are not registered are vectorised from their spec, if they have
    one, else over a factory deep-copying the env.
    """
    subject = env_subject(env)
    for mode in VECTOR_MODES:
        how, where, envs = f"vector env of {subject.name}", "construction", None
        try:
            how, envs = _make_vector_env(subject, mode)
            n = envs.num_envs
            space = copy.deepcopy(envs.single_action_space)
            space.seed(0)
            where = "reset(seed=0)"
            _, info = envs.reset(seed=0)
            for step in range(1, VECTOR_STEPS + 1):
                actions = _vector_actions(space, info, n)
                where = f"step {step}"
                _, rewards, _, _, info = envs.step(actions)
                bad = [r for r in np.asarray(rewards, dtype=np.float64).ravel()
                       if not math.isfinite(r)]
                if bad:
                    raise _Finding(REWARD_NOT_FINITE.format(step=step, reward=bad[0]))
        except _Finding:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the vector env is the finding
            raise AssertionError(VECTOR_ENV_FAILED.format(
                how=how, mode=mode, num_envs=VECTOR_NUM_ENVS, where=where,
                details=_describe(exc))) from exc
        finally:
            if envs is not None:
                try:
                    envs.close()
                except Exception:  # noqa: BLE001, S110 - already failed; do not mask it
                    pass


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


def _check_policy_declaration(e, name: str, policy: Any) -> None:
    """A BenchmarkPolicy passes the live oracle exactly when its agent needs it."""
    from banditlab.core import BenchmarkPolicy
    from banditlab.registry import agent_spec, load_entry_point

    if not isinstance(policy, BenchmarkPolicy):
        return  # an Agent instance (oracles written before BenchmarkPolicy)
    try:
        cls = load_entry_point(agent_spec(policy.agent_id).entry_point)
    except Exception as exc:  # noqa: BLE001 - reported with the policy's name
        raise AssertionError(BENCHMARK_POLICY_FAILED.format(
            name=name, what=f"agent {policy.agent_id!r}",
            details=f"{type(exc).__name__}: {exc}")) from exc
    needs = bool(cls.get_tags().get("needs_oracle", False)) if hasattr(cls, "get_tags") else False
    passes = "oracle" in policy.kwargs
    fmt = functools.partial(BENCHMARK_POLICY_ORACLE.format, name=name, agent_id=policy.agent_id)
    if needs:
        assert policy.agent_id.startswith("oracle/"), fmt(
            details="tagged needs_oracle but not registered in the 'oracle/' namespace")
        assert passes and policy.kwargs["oracle"] is e.oracle, fmt(
            details="tagged needs_oracle but the policy does not pass this env's oracle")
    else:
        assert not passes, fmt(details="passes an `oracle` but the agent is not tagged "
                                       "needs_oracle=True")


def check_benchmark_policies(env: Any) -> None:
    """Every ``oracle:<name>`` builds through the registry and plays a few rounds.

    Each key of ``oracle.benchmark_policies()`` is built with
    :func:`banditlab.registry.make_benchmark_policy` from the oracle of a fresh env and
    plays :data:`BENCHMARK_ROUNDS` rounds on that env (actions must be in the action
    space, rewards finite). A :class:`~banditlab.core.BenchmarkPolicy` passes the live
    oracle (``kwargs["oracle"] is env.oracle``) exactly when its agent is tagged
    ``needs_oracle`` (and registered under ``oracle/``).
    """
    from banditlab.registry import make_benchmark_policy

    subject = env_subject(env)
    e = subject.make()
    for name in sorted(e.oracle.benchmark_policies()):
        e = subject.make()
        policy = e.oracle.benchmark_policies()[name]
        _check_policy_declaration(e, name, policy)
        what = (f"agent {policy.agent_id!r}" if hasattr(policy, "agent_id")
                else type(policy).__name__)
        try:
            agent = make_benchmark_policy(e.oracle, name)
            _play_rounds(e, agent, BENCHMARK_ROUNDS)
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported with the policy's name
            raise AssertionError(BENCHMARK_POLICY_FAILED.format(
                name=name, what=what, details=f"{type(exc).__name__}: {exc}")) from exc


def _play_rounds(e, agent, n_rounds: int) -> None:
    """Play ``agent`` for ``n_rounds`` rounds of ``e`` (reset with seed 0), checking rewards."""
    obs, _ = e.reset(seed=0)
    sim = getattr(e, "simulator", None) if agent.get_tags()["needs_simulator"] else None
    agent.reset(e.action_space, e.observation_space, seed=0, simulator=sim)
    episodic = _is_episodic(e)
    n_rounds = min(int(e.run_length), n_rounds)
    rounds = steps = 0
    while rounds < n_rounds and steps < ROLLOUT_MAX_STEPS + MAX_EPISODE_STEPS:
        act = agent.act(obs)
        nobs, r, term, trunc, _info = e.step(act)
        steps += 1
        assert _finite(r), REWARD_NOT_FINITE.format(step=steps, reward=r)
        agent.update(obs, act, r, nobs, term)
        obs = nobs
        if episodic and not term:
            continue
        rounds += 1
        if episodic and rounds < n_rounds:
            obs, _ = e.reset()
        if trunc and not episodic:
            break


# --------------------------------------------------------------------------- registry of checks
_ALWAYS = (
    check_env_attributes,
    check_env_family,
    check_gymnasium_api,
    check_info_contract,
    check_run_structure,
    check_no_global_random,
    check_determinism,
    check_crn,
    check_pickle,
    check_no_reserved_info_keys,
    check_action_mask_from_reset,
    check_standard_wrappers,
    check_vector_env,
)


def env_checks(env_class: type) -> list[Callable[[Any], None]]:
    """The checks that apply to envs of ``env_class``, in running order."""
    checks = list(_ALWAYS)
    if isinstance(env_class, type) and issubclass(env_class, KernelEnv):
        checks.append(check_kernel_step_parity)
        if getattr(env_class, "run_kind", "continuing") == "continuing":
            checks.append(check_fused_parity)
    checks.append(check_oracle_consistency)
    checks.append(check_benchmark_policies)
    return checks
