"""The checkers: correct fixtures pass, deliberately broken ones fail for the right reason.

Every broken fixture is a :class:`GenericTestEnv` / :class:`GenericTestAgent` with one
injected method (or a small subclass), and each test asserts both that the targeted
check fails with its "most likely cause" message and, where it matters, that a
neighbouring check still passes (so the failure is specific).
"""

import copy
import functools
import re
import warnings

import numpy as np
import pytest
from numba import njit
from numba.extending import overload

from banditlab.agents.classic.baselines import Uniform, counter_init, memoryless_update
from banditlab.checks import agent_checker as ac
from banditlab.checks import check_agent, check_env, run_checks
from banditlab.checks import env_checker as ec
from banditlab.core import (
    Agent,
    AgentKernel,
    BanditlabError,
    BenchmarkPolicy,
    KernelAgent,
    Oracle,
    RegretKind,
)
from banditlab.envs.classic.stochastic import BernoulliBandit, StochasticBanditOracle
from banditlab.testing import (
    GenericTestAgent,
    GenericTestEnv,
    GenericTestOracleAgent,
    check_cases,
    generic_agent_reset,
    generic_agent_update,
    generic_reset,
    generic_step,
    numba_warm,  # noqa: F401  (session fixture)
    parametrize_with_checks,
)


# --------------------------------------------------------------------------- env fixtures
def step_global_random(env, action):
    """Draws the noise from NumPy's global generator."""
    u = np.random.random()  # noqa: NPY002 - the deliberate bug
    env.t_ += 1
    mu = float(env.means[action])
    info = {"t": env.t_, "expected_reward": mu, "optimal_expected_reward": float(env.means.max())}
    return 0, float(u < mu), False, env.t_ >= env.run_length, info


def step_action_dependent_draws(env, action):
    """Draws ``action + 1`` uniforms: breaks common random numbers only."""
    u = env.noise_rng_.random(int(action) + 1)[-1]
    env.t_ += 1
    mu = float(env.means[action])
    info = {"t": env.t_, "expected_reward": mu, "optimal_expected_reward": float(env.means.max())}
    return 0, float(u < mu), False, env.t_ >= env.run_length, info


def _patched_step(**changes):
    def step(env, action):
        obs, r, term, trunc, info = generic_step(env, action)
        for key, value in changes.items():
            if key == "drop":
                info.pop(value)
            elif key == "info":
                info.update(value(env, action, r))
            elif key == "terminated":
                term = value(env)
            elif key == "truncated":
                trunc = value(env)
            elif key == "obs":
                obs = value
        return obs, r, term, trunc, info

    return step


class NoPrimaryOracle(Oracle):
    """Declares no primary kind."""

    regret_kinds = {"stochastic": RegretKind(per_step=True)}  # noqa: RUF012


class LyingOracle(StochasticBanditOracle):
    """Adds a 'static' kind declared nonnegative whose comparator is always 0."""

    regret_kinds = {  # noqa: RUF012
        "stochastic": RegretKind(per_step=True),
        "static": RegretKind(per_step=False, nonnegative=True),
    }

    def comparator(self, kind, t):
        """``(0, 0)`` for static (wrong: not the best fixed action)."""
        if kind == "static":
            return 0.0, 0.0
        return super().comparator(kind, t)


HIDDEN_STEPS = {}


def step_hidden_counter(env, action):
    """Reports a step counter kept in a module global keyed by id(env): lost by pickling."""
    obs, r, term, trunc, info = generic_step(env, action)
    HIDDEN_STEPS[id(env)] = HIDDEN_STEPS.get(id(env), 0) + 1
    info["t"] = HIDDEN_STEPS[id(env)]
    return obs, r, term, trunc, info


def reset_restarting_episodes(env, seed, options):
    """``reset()`` without a seed restarts at episode 0 instead of continuing."""
    out = generic_reset(env, seed, options)
    env.episode_ = 0
    return out


class ExtraDrawBernoulli(BernoulliBandit):
    """A KernelEnv whose Python step draws one more uniform than its kernel."""

    def _pre_step_info(self, action):
        self.noise_rng_.random()
        return {}


class BadRunKind(GenericTestEnv):
    """Declares an unknown run kind."""

    def __init__(self):
        super().__init__(run_kind="forever")


class XfailEnv(GenericTestEnv):
    """Declares a check as expected to fail (with a reason)."""

    xfail_checks = {"check_crn": "draws depend on the action by design"}  # noqa: RUF012

    def __init__(self):
        super().__init__(step_fn=step_action_dependent_draws)


# --------------------------------------------------------------------------- env tests
@pytest.mark.parametrize("run_kind", ["continuing", "episodic"])
def test_generic_env_passes_every_check(run_kind):
    env = GenericTestEnv(run_kind=run_kind, run_length=20 if run_kind == "continuing" else 3)
    check_env(env)


def test_env_subjects_from_id_spec_pair_and_instance():
    import gymnasium as gym

    from banditlab.checks._common import env_subject
    from banditlab.registry import make_env

    subject = env_subject("banditlab/Bernoulli10-v0")
    assert subject.kwargs == {"horizon": 60}  # shortened for the suite (registered: 10000)
    assert subject.make().run_length == 60
    assert env_subject(gym.spec("banditlab/Bernoulli10-v0")).kwargs == {"horizon": 60}
    assert env_subject(("banditlab/Bernoulli-v0", {"horizon": 7})).make().run_length == 7
    # An instance that cannot be deep-copied (read-only mapping) is rebuilt from its spec.
    made = make_env("banditlab/Gaussian-v0", horizon=9)
    rebuilt = env_subject(made).make()
    assert rebuilt is not made and rebuilt.run_length == 9


def test_global_random_is_caught():
    env = GenericTestEnv(step_fn=step_global_random)
    with pytest.raises(AssertionError, match="global random state"):
        ec.check_no_global_random(env)
    with pytest.raises(AssertionError, match="diverged"):
        ec.check_determinism(env)


def test_action_dependent_draws_break_crn_only():
    env = GenericTestEnv(step_fn=step_action_dependent_draws)
    ec.check_determinism(env)  # deterministic all the same
    ec.check_info_contract(env)
    with pytest.raises(AssertionError, match="common random numbers broken.*noise_rng_"):
        ec.check_crn(env)


@pytest.mark.parametrize(
    "step_fn, oracle, pattern",
    [
        (_patched_step(drop="expected_reward"), None, "lacks 'expected_reward'"),
        (_patched_step(drop="t"), None, "lacks 't'"),
        (None, NoPrimaryOracle(), "primary_kind is None"),
        (_patched_step(drop="optimal_expected_reward"), None, "lacks 'optimal_expected_reward'"),
        (_patched_step(info=lambda e, a, r: {"optimal_expected_reward": 0.0}), None,
         r"expected_reward .* > optimal_expected_reward"),
        (_patched_step(info=lambda e, a, r: {"expected_reward": float("nan")}), None,
         "not a finite number"),
        (_patched_step(info=lambda e, a, r: {"loss": r}), None, "reward = -loss"),
        (_patched_step(info=lambda e, a, r: {"t": e.t_ - 1}), None, r"info\['t'\]"),
    ],
)
def test_info_contract_violations(step_fn, oracle, pattern):
    env = GenericTestEnv(step_fn=step_fn, oracle=oracle)
    with pytest.raises(AssertionError, match=pattern):
        ec.check_info_contract(env)


def test_info_contract_accepts_loss_framed_env():
    env = GenericTestEnv(step_fn=_patched_step(info=lambda e, a, r: {"loss": -r}))
    ec.check_info_contract(env)


@pytest.mark.parametrize(
    "step_fn, pattern",
    [
        (_patched_step(terminated=lambda e: e.t_ == 5), "terminated=True at step 5"),
        (_patched_step(truncated=lambda e: e.t_ >= e.run_length - 1), "truncated=True at step 19"),
        (_patched_step(truncated=lambda e: False), "truncated=False at step 20"),
    ],
)
def test_continuing_run_structure_violations(step_fn, pattern):
    with pytest.raises(AssertionError, match=pattern):
        ec.check_run_structure(GenericTestEnv(step_fn=step_fn))


def test_episodic_reset_must_continue_the_run():
    env = GenericTestEnv(run_kind="episodic", run_length=3, reset_fn=reset_restarting_episodes)
    with pytest.raises(AssertionError, match=r"info\['episode_index'\] = 0, expected 1"):
        ec.check_run_structure(env)


def test_episode_that_never_terminates():
    env = GenericTestEnv(run_kind="episodic", run_length=3, episode_length=10**9)
    with pytest.raises(AssertionError, match="did not terminate"):
        ec.check_run_structure(env)


def test_gymnasium_warning_fails():
    env = GenericTestEnv(observation_space=__import__("gymnasium").spaces.Discrete(1),
                         step_fn=_patched_step(obs=3))
    with pytest.raises(AssertionError, match="Gymnasium's env checker warned"):
        ec.check_gymnasium_api(env)


def test_attributes_and_regret_kinds():
    with pytest.raises(AssertionError, match="run_kind='forever'"):
        ec.check_env_attributes(BadRunKind())

    class BadPrimary(StochasticBanditOracle):
        primary_kind = "dynamic"

    with pytest.raises(AssertionError, match="primary_kind='dynamic'"):
        ec.check_env_attributes(GenericTestEnv(oracle=BadPrimary(np.array([0.2, 0.8]))))


def test_unpicklable_env():
    env = GenericTestEnv(step_fn=lambda e, a: generic_step(e, a))
    ec.check_determinism(env)
    with pytest.raises(AssertionError, match="does not survive pickling"):
        ec.check_pickle(env)


def test_state_lost_by_pickling_mid_run():
    env = GenericTestEnv(step_fn=step_hidden_counter)
    with pytest.raises(AssertionError, match="restored from pickle mid-run"):
        ec.check_pickle(env)


def test_oracle_consistency_violations():
    env = GenericTestEnv(oracle=LyingOracle(np.array([0.2, 0.8])))
    with pytest.raises(AssertionError, match="'static' is declared nonnegative"):
        ec.check_oracle_consistency(env)
    with pytest.raises(AssertionError, match="uniformly random policy has pseudo-regret 0.0"):
        ec.check_oracle_consistency(GenericTestEnv(means=(0.5, 0.5)))


def test_kernel_env_with_extra_python_draw(numba_warm):  # noqa: F811
    env = functools.partial(ExtraDrawBernoulli, horizon=40)  # a factory
    ec.check_crn(env)  # still one more draw whatever the action
    with pytest.raises(AssertionError, match="Python step disagrees with its EnvKernel"):
        ec.check_kernel_step_parity(env)
    with pytest.raises(AssertionError, match="fused Numba loop and the Gymnasium loop disagree"):
        ec.check_fused_parity(env)
    ec.check_kernel_step_parity(functools.partial(BernoulliBandit, horizon=40))
    ec.check_fused_parity(functools.partial(BernoulliBandit, horizon=40))


def test_check_env_reports_all_failures_and_honours_xfail():
    env = GenericTestEnv(step_fn=step_global_random)
    with pytest.raises(AssertionError) as info:
        check_env(env)
    text = str(info.value)
    assert "check_no_global_random" in text and "check_determinism" in text
    assert "check_info_contract" not in text
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(XfailEnv())  # would fail check_crn without the declaration
    assert any("check_crn skipped" in str(w.message) for w in caught)
    cases = check_cases([XfailEnv()])
    reasons = {c[0]: c[3] for c in cases}
    assert reasons["XfailEnv-check_crn"] == "draws depend on the action by design"
    assert reasons["XfailEnv-check_determinism"] is None


# --------------------------------------------------------------------------- Gymnasium conventions
def reset_with_reserved_key(env, seed, options):
    """``reset`` reports the episode under Gymnasium's reserved ``episode`` key."""
    obs, info = generic_reset(env, seed, options)
    info["episode"] = env.episode_
    return obs, info


def _alternating_mask(env):
    """int8 one-hot of the only valid arm of the next step (arms alternate: 0, 1, 0, ...)."""
    mask = np.zeros(2, dtype=np.int8)
    mask[env.t_ % 2] = 1
    return mask


def reset_alternating(env, seed, options, *, with_mask=True, mask_fn=_alternating_mask):
    """Reset of the alternating-arms env; ``with_mask=False`` forgets the first step's mask."""
    obs, info = generic_reset(env, seed, options)
    if with_mask:
        info["action_mask"] = mask_fn(env)
    return obs, info


def step_alternating(env, action, *, mask_fn=_alternating_mask):
    """Only arm ``t % 2`` is valid; the next step's mask goes into info (via ``mask_fn``)."""
    if int(action) != env.t_ % 2:
        raise BanditlabError(f"action: {action} is not valid at step {env.t_ + 1}")
    obs, r, term, trunc, info = generic_step(env, action)
    info["action_mask"] = mask_fn(env)
    return obs, r, term, trunc, info


def alternating_env(reset_with_mask=True, mask_fn=_alternating_mask):
    """Arms alternate; ``mask_fn`` builds the masks of reset and step (broken ones in tests)."""
    return GenericTestEnv(
        reset_fn=functools.partial(reset_alternating, with_mask=reset_with_mask,
                                   mask_fn=mask_fn),
        step_fn=functools.partial(step_alternating, mask_fn=mask_fn),
    )


def step_forgets_mask(env, action):
    """The alternating env whose steps stop giving the mask from step 5 on."""
    obs, r, term, trunc, info = step_alternating(env, action)
    if env.t_ >= 5:
        info.pop("action_mask")
    return obs, r, term, trunc, info


GYM_CHECKS = (ec.check_no_reserved_info_keys, ec.check_action_mask_from_reset,
              ec.check_standard_wrappers, ec.check_vector_env)


def test_masked_env_passes_the_gymnasium_checks():
    env = alternating_env()
    ec.check_info_contract(env)
    for check in GYM_CHECKS:
        check(env)


def test_reserved_key_at_reset_fails():
    env = GenericTestEnv(run_kind="episodic", run_length=3, reset_fn=reset_with_reserved_key)
    with pytest.raises(AssertionError, match=r"reset\(seed=\.\.\.\): info has the key 'episode'"
                       r".*Most likely cause: an env key named like theirs"):
        ec.check_no_reserved_info_keys(env)
    ec.check_info_contract(env)  # the banditlab contract itself is met


@pytest.mark.parametrize("key", ["episode", "_episode", "final_info", "final_obs", "_t_mask"])
def test_reserved_key_at_step_fails(key):
    env = GenericTestEnv(step_fn=_patched_step(info=lambda e, a, r: {key: e.t_}))
    with pytest.raises(AssertionError, match=rf"step 1: info has the key '{key}'.*Most likely"):
        ec.check_no_reserved_info_keys(env)


def test_reserved_episode_key_breaks_record_episode_statistics():
    env = GenericTestEnv(step_fn=_patched_step(info=lambda e, a, r: {"episode": 0}))
    with pytest.raises(AssertionError, match=r"RecordEpisodeStatistics\(TimeLimit\(env, 50\)\) "
                       r"failed at step 20: bare AssertionError .*`assert self._stats_key not in "
                       r"info`.*Most likely cause: a reserved info key"):
        ec.check_standard_wrappers(env)
    ec.check_vector_env(env)  # vector envs keep it (sub-envs are not under the wrapper)


def test_action_mask_missing_at_reset_fails():
    # the steps give a mask (here allowing both arms), the reset does not
    env = GenericTestEnv(step_fn=_patched_step(
        info=lambda e, a, r: {"action_mask": np.ones(2, dtype=np.int8)}))
    with pytest.raises(AssertionError, match=r"reset\(seed=0\): info has no 'action_mask' although "
                       r"the env emits one \(first at step 1\)\. Most likely cause: `reset`"):
        ec.check_action_mask_from_reset(env)
    # an env that restricts actions and gives no first mask: its first random action fails
    env = alternating_env(reset_with_mask=False)
    with pytest.raises(AssertionError, match=r"reset\(seed=0\): info has no 'action_mask' and the "
                       r"env rejected the action 1 drawn without one.*Most likely cause: the env "
                       r"restricts actions"):
        ec.check_action_mask_from_reset(env)
    # without the first mask, a vector env draws an arm the env rejects
    with pytest.raises(AssertionError, match=r"SyncVectorEnv over copies of GenericTestEnv \(sync "
                       r"mode, num_envs=2\) failed at step 1: BanditlabError: action: 1 is not "
                       r"valid.*Most likely cause"):
        ec.check_vector_env(env)


def test_action_mask_missing_at_a_later_step_fails():
    env = GenericTestEnv(reset_fn=reset_alternating, step_fn=step_forgets_mask)
    with pytest.raises(AssertionError, match=r"step 5: info has no 'action_mask' although the env "
                       r"emits one \(first at reset\(seed=0\)\)\. Most likely cause"):
        ec.check_action_mask_from_reset(env)
    ec.check_action_mask_from_reset(GenericTestEnv())  # never emits a mask: nothing to check


@pytest.mark.parametrize(
    "mask_fn, shown",
    [
        (lambda e: _alternating_mask(e).astype(bool), r"bool\[2\]"),
        (lambda e: [e.t_ % 2], r"list \[[01]\]"),
        (lambda e: _alternating_mask(e).astype(np.float64), r"float64\[2\]"),
    ],
)
def test_action_mask_that_sample_rejects_fails(mask_fn, shown):
    env = alternating_env(mask_fn=mask_fn)
    with pytest.raises(AssertionError, match=r"the info of reset\(seed=0\): action_space\.sample\("
                       rf"mask=info\['action_mask'\]\) rejected the mask {shown} .*Most likely "
                       r"cause: the mask is not in the form Gymnasium's sample\(\) takes"):
        ec.check_action_mask_from_reset(env)


def test_stale_and_empty_masks_fail():
    def stale(env):  # the mask of the step just played
        mask = np.zeros(2, dtype=np.int8)
        mask[(env.t_ - 1) % 2] = 1
        return mask

    env = GenericTestEnv(reset_fn=reset_alternating,
                         step_fn=functools.partial(step_alternating, mask_fn=stale))
    with pytest.raises(AssertionError, match=r"step 2: the env rejected action 0 drawn with its "
                       r"own info\['action_mask'\]"):
        ec.check_action_mask_from_reset(env)
    with pytest.raises(AssertionError, match="allows no action"):
        ec.check_action_mask_from_reset(
            alternating_env(mask_fn=lambda e: np.zeros(2, dtype=np.int8)))


def test_vector_env_of_registered_and_spec_built_envs():
    import gymnasium as gym

    from banditlab.checks._common import env_subject
    from banditlab.registry import make_env

    how, envs = ec._make_vector_env(env_subject("banditlab/Bernoulli-v0"), "sync")
    envs.close()
    assert how == "gym.make_vec('banditlab/Bernoulli-v0')"
    made = gym.make("banditlab/Bernoulli-v0", horizon=30)
    subject = env_subject(made)
    if subject.env_id is None:  # copied: vectorised from the env's spec
        how, envs = ec._make_vector_env(subject, "async")
        assert how == "gym.make_vec(spec 'banditlab/Bernoulli-v0')"
        assert envs.call("run_length") == (30, 30)
        envs.close()
    ec.check_vector_env(make_env("banditlab/ActiveIdentification-v0", budget=3))


# --------------------------------------------------------------------------- agent fixtures
def init_creates_state(agent):
    agent.counts_ = np.zeros(2)


def reset_unseeded(agent, action_space, observation_space, seed, simulator):
    generic_agent_reset(agent, action_space, observation_space, None, simulator)


def reset_keeps_counts(agent, action_space, observation_space, seed, simulator):
    counts = getattr(agent, "counts_", None)
    generic_agent_reset(agent, action_space, observation_space, seed, simulator)
    if counts is not None:
        agent.counts_ = counts


def act_greedy_on_counts(agent, observation):
    return int(np.argmin(agent.counts_)) if agent.counts_.sum() % 3 else int(
        agent.rng_.integers(agent.n_actions_))


def act_out_of_range(agent, observation):
    return agent.n_actions_ + int(agent.rng_.integers(2))


def update_nan(agent, observation, action, reward, next_observation, terminated):
    generic_agent_update(agent, observation, action, reward, next_observation, terminated)
    agent.sums_[action] = np.nan


def update_overwrites_param(agent, observation, action, reward, next_observation, terminated):
    generic_agent_update(agent, observation, action, reward, next_observation, terminated)
    agent.init_fn = "changed"


def reset_with_lambda(agent, action_space, observation_space, seed, simulator):
    generic_agent_reset(agent, action_space, observation_space, seed, simulator)
    agent.policy_ = lambda x: x


def update_hidden(agent, observation, action, reward, next_observation, terminated):
    generic_agent_update(agent, observation, action, reward, next_observation, terminated)
    agent.hidden = getattr(agent, "hidden", 0) + 1


def act_hidden(agent, observation):
    draw = int(agent.rng_.integers(agent.n_actions_))
    return 1 - draw if getattr(agent, "hidden", 0) >= 10 else draw


class ConvertsParam(GenericTestAgent):
    """Stores a converted copy of its hyperparameter."""

    def __init__(self, scale=(1, 2)):
        self.scale = np.asarray(scale, dtype=float)


class NeedsArgument(GenericTestAgent):
    """Has a hyperparameter without default."""

    def __init__(self, k):
        self.k = k


class DoublesParam(GenericTestAgent):
    """``__init__`` stores twice the value: get_params is not a clone."""

    def __init__(self, alpha=1.0):
        self.alpha = 2 * alpha


class ClaimsToLearn(GenericTestAgent):
    """Uniform play but tagged ``learns``."""

    _tags = {"learns": True}  # noqa: RUF012


class ExtraDrawUniform(Uniform):
    """Python path draws once more than the kernel path."""

    def act(self, observation):
        self.rng_.random()
        return super().act(observation)


def _in_jit():
    return False


@overload(_in_jit)
def _in_jit_ol():
    return lambda: True


@njit
def jit_only_zero_select(state, hparams, obs, t, rng):
    """Jitted: always arm 0; as Python: the uniform draw (deliberately different)."""
    a = rng.integers(0, state.n_actions[0])
    if _in_jit():
        return np.int64(0)
    return np.int64(a)


class JitDiffers(KernelAgent):
    """A kernel whose jitted select differs from its ``py_func``."""

    display_name = "Jit differs (fixture)"
    _tags = {"learns": False}  # noqa: RUF012

    def __init__(self):
        pass

    def make_kernel(self):
        return AgentKernel((0,), counter_init, jit_only_zero_select, memoryless_update)


# --------------------------------------------------------------------------- agent tests
def test_generic_agent_passes_every_check(numba_warm):  # noqa: F811
    check_agent(GenericTestAgent())


def test_state_created_in_init():
    agent = GenericTestAgent(init_fn=init_creates_state)
    with pytest.raises(AssertionError, match="__init__ set counts_"):
        ac.check_no_attributes_set_in_init(agent)


def test_param_not_stored_verbatim_and_clone():
    with pytest.raises(AssertionError, match="'scale' is not stored verbatim"):
        ac.check_no_attributes_set_in_init(ConvertsParam)
    with pytest.raises(AssertionError, match="is not a clone"):
        ac.check_get_params_clone(DoublesParam())
    ac.check_get_params_clone(ConvertsParam())  # converting is a clone, just not verbatim


def test_not_default_constructible():
    with pytest.raises(AssertionError, match=r"NeedsArgument\(\) then 5 steps"):
        ac.check_default_constructible(NeedsArgument)


def test_unseeded_reset():
    agent = GenericTestAgent(reset_fn=reset_unseeded)
    with pytest.raises(AssertionError, match="chose different actions"):
        ac.check_reset_determinism(agent)


def test_reset_keeping_state():
    agent = GenericTestAgent(reset_fn=reset_keeps_counts, act_fn=act_greedy_on_counts)
    ac.check_reset_determinism(agent)
    with pytest.raises(AssertionError, match="state after reset.*counts_"):
        ac.check_reset_clears_state(agent)


def test_actions_out_of_space():
    agent = GenericTestAgent(act_fn=act_out_of_range)
    with pytest.raises(AssertionError, match="is not in the action space Discrete"):
        ac.check_actions_in_space(agent)


def test_nan_in_state():
    agent = GenericTestAgent(update_fn=update_nan)
    ac.check_actions_in_space(agent)
    with pytest.raises(AssertionError, match=r"agent\['sums_'\] contains NaN"):
        ac.check_no_nan(agent)


def test_params_changed_by_update():
    agent = GenericTestAgent(update_fn=update_overwrites_param)
    with pytest.raises(AssertionError, match="get_params\\(\\) changed during a run.*init_fn"):
        ac.check_params_unchanged_by_update(agent)


def test_unpicklable_mid_run():
    agent = GenericTestAgent(reset_fn=reset_with_lambda)
    with pytest.raises(AssertionError, match="does not survive pickling after 20 steps"):
        ac.check_pickle_midrun(agent)


def test_state_outside_trailing_underscore():
    agent = GenericTestAgent(update_fn=update_hidden, act_fn=act_hidden)
    ac.check_reset_determinism(agent)
    ac.check_pickle_midrun(agent)  # pickling copies every attribute, so it cannot see this
    with pytest.raises(AssertionError, match="did not continue like one uninterrupted"):
        ac.check_incremental_equivalence(agent)


def test_kernel_and_python_paths_differ(numba_warm):  # noqa: F811
    ac.check_kernel_matches_python(Uniform())
    with pytest.raises(AssertionError, match="fused Numba loop and the Python loop disagree"):
        ac.check_kernel_matches_python(ExtraDrawUniform())


def test_jitted_kernel_differs_from_py_func(numba_warm):  # noqa: F811
    ac.check_kernel_reference(Uniform())
    with pytest.raises(AssertionError, match="jitted AgentKernel.select differs"):
        ac.check_kernel_reference(JitDiffers())


def test_claims_to_learn(numba_warm):  # noqa: F811
    assert ac.check_learns in ac.agent_checks(ClaimsToLearn)
    with pytest.raises(AssertionError, match="not below 1/4 of the uniform"):
        ac.check_learns(ClaimsToLearn())


# --------------------------------------------------------------------------- plumbing
def test_check_cases_ids_and_applicability():
    cases = check_cases(["UCB1-v0", "Uniform-v0", "banditlab/Bernoulli-v0", GenericTestEnv()])
    ids = [c[0] for c in cases]
    assert "UCB1-v0-check_reset_determinism" in ids
    assert "UCB1-v0-check_learns" in ids
    assert "Uniform-v0-check_learns" not in ids  # tagged learns=False
    assert "banditlab/Bernoulli-v0-check_fused_parity" in ids
    assert "GenericTestEnv-check_crn" in ids
    assert "GenericTestEnv-check_kernel_step_parity" not in ids  # not a KernelEnv
    assert len(ids) == len(set(ids))
    broken = check_cases(["NoSuchAgent-v0"])
    assert [c[0] for c in broken] == ["NoSuchAgent-v0-check_loadable"]
    with pytest.raises(AssertionError, match="building the check list failed"):
        broken[0][2](broken[0][1])


@parametrize_with_checks([GenericTestAgent()])
def test_parametrize_with_checks_runs_generic_agent(subject, check, numba_warm):  # noqa: F811
    check(subject)


def test_run_checks_for_agent_and_unknown_id(numba_warm):  # noqa: F811
    results = dict(run_checks("FixedArm-v0"))
    assert results["check_reset_determinism"] is None
    assert "check_learns" not in results
    assert all(v is None for v in results.values()), results
    with pytest.raises(BanditlabError, match="did you mean 'UCB1-v0'"):
        run_checks("UCB-v0")


# --------------------------------------------------------------------------- declared families
def _without(cls, name, bases, drop, **extra):
    """A copy of ``cls``'s methods on other ``bases``, without the attributes in ``drop``."""
    body = {k: v for k, v in vars(cls).items()
            if k not in {*drop, "__dict__", "__weakref__"}}
    return type(name, bases, {**body, **extra})


def test_env_without_family_is_rejected():
    import gymnasium as gym

    no_family = _without(GenericTestEnv, "NoFamilyEnv", (gym.Env,), {"family"})
    assert not hasattr(no_family, "family")
    with pytest.raises(AssertionError, match="NoFamilyEnv declares no `family`.*register_family"):
        ec.check_env_family(no_family())
    ec.check_env_attributes(no_family())  # the other attributes are fine


def test_env_with_unknown_family_is_rejected():
    class TypoFamily(GenericTestEnv):
        family = "clasic"

    with pytest.raises(AssertionError, match=r"TypoFamily.family = 'clasic' is not a declared "
                                             r"family \(known: classic, .*register_family"):
        ec.check_env_family(TypoFamily())


@pytest.fixture
def third_party_family():
    from banditlab import registry

    registry.known_families()  # built-ins first, so the fixture only adds one entry
    registry.register_family("mylab", title="My lab's bandits", description="A plugin family.")
    yield "mylab"
    registry.family_registry.pop("mylab", None)


class MyLabEnv(GenericTestEnv):
    """A third-party env in a family declared by its own package."""

    family = "mylab"


class MyLabAgent(GenericTestAgent):
    """A third-party agent whose home family is declared by its own package."""

    _tags = {"families": ("mylab", "classic")}  # noqa: RUF012


def test_third_party_family_passes(third_party_family, numba_warm):  # noqa: F811
    check_env(MyLabEnv())
    check_agent(MyLabAgent())
    from banditlab import registry

    registry.family_registry.pop(third_party_family)  # the same classes, family undeclared
    with pytest.raises(AssertionError, match="'mylab' is not a declared family"):
        ec.check_env_family(MyLabEnv())
    with pytest.raises(AssertionError, match=r"names undeclared families \['mylab'\]"):
        ac.check_agent_families(MyLabAgent())


def test_agent_without_families_tag_is_rejected():
    from banditlab.core import Agent

    no_tag = _without(GenericTestAgent, "NoFamiliesAgent", (Agent,), {"_tags"},
                      _tags={"learns": False})
    assert "families" not in no_tag.get_tags()
    with pytest.raises(AssertionError, match="NoFamiliesAgent declares no `families` tag"):
        ac.check_agent_families(no_tag())
    ac.check_reset_determinism(no_tag())  # the agent itself works


@pytest.mark.parametrize("families, problem", [
    ("classic", "is a str"),
    (["classic"], "is a list"),
    ((), "is empty"),
    (("classic", "bandit"), r"names undeclared families \['bandit'\]"),
])
def test_agent_with_malformed_families_is_rejected(families, problem):
    cls = type("BadFamilies", (GenericTestAgent,), {"_tags": {"families": families}})
    with pytest.raises(AssertionError, match=f"BadFamilies: tag families = .* {problem}. Most "
                                             "likely cause"):
        ac.check_agent_families(cls())


def test_family_checks_run_on_every_registered_id():
    cases = check_cases(["UCB1-v0", "banditlab/Bernoulli-v0"])
    ids = [c[0] for c in cases]
    assert "UCB1-v0-check_agent_families" in ids
    assert "banditlab/Bernoulli-v0-check_env_family" in ids
    assert "banditlab/Bernoulli-v0-check_benchmark_policies" in ids


# --------------------------------------------------------------------------- oracle agents
class BestArmPolicyOracle(StochasticBanditOracle):
    """Offers its benchmark policies by registry id: an oracle agent and a plain one."""

    def benchmark_policies(self):
        return {"best": BenchmarkPolicy(ORACLE_ID, {"oracle": self}),
                "fixed": BenchmarkPolicy("FixedArm-v0", {"arm": 1})}


class CopiedOraclePolicy(StochasticBanditOracle):
    def benchmark_policies(self):
        return {"best": BenchmarkPolicy(ORACLE_ID, {"oracle": copy.deepcopy(self)})}


class OracleToPlainAgent(StochasticBanditOracle):
    def benchmark_policies(self):
        return {"fixed": BenchmarkPolicy("FixedArm-v0", {"arm": 1, "oracle": self})}


class UnknownIdPolicy(StochasticBanditOracle):
    def benchmark_policies(self):
        return {"ghost": BenchmarkPolicy("NoSuchAgent-v0")}


class OutOfSpacePolicy(StochasticBanditOracle):
    def benchmark_policies(self):
        return {"bad": BenchmarkPolicy("FixedArm-v0", {"arm": 7})}


ORACLE_ID = "oracle/GenericBestArm-v0"


@pytest.fixture
def oracle_agent_id(monkeypatch):
    from banditlab import registry

    registry.agent_ids()
    monkeypatch.setitem(registry.agent_registry, ORACLE_ID, registry.AgentSpec(
        ORACLE_ID, "banditlab.testing:GenericTestOracleAgent"))
    return ORACLE_ID


class CopiesOracle(GenericTestOracleAgent):
    """Stores a copy of the oracle: it no longer reads the env it plays."""

    def __init__(self, oracle=None):
        self.oracle = copy.deepcopy(oracle)


class OracleNeedsMore(GenericTestOracleAgent):
    """An oracle agent with a second hyperparameter without default."""

    def __init__(self, oracle=None, *, k):
        self.oracle = oracle
        self.k = k


def test_oracle_agent_is_built_from_its_check_env_oracle(oracle_agent_id, numba_warm):  # noqa: F811
    from banditlab.checks.agent_checker import agent_checks

    # By class, by registered id, and from an instance holding another env's oracle.
    check_agent(GenericTestOracleAgent)
    check_agent(oracle_agent_id)
    stale = GenericTestOracleAgent(oracle=StochasticBanditOracle(np.array([0.9, 0.1])))
    check_agent(stale)
    s = ac.agent_subject(oracle_agent_id)
    a = s.factory()
    (oracle, env), = s.paired_envs.values()
    assert a.oracle is oracle is env.oracle and a.registry_id == oracle_agent_id
    # The generic checks apply (adapted), none is skipped silently.
    assert ac.check_default_constructible in agent_checks(GenericTestOracleAgent)
    assert ac.check_learns in agent_checks(GenericTestOracleAgent)
    assert not s.xfail_checks


def test_oracle_agent_uses_the_policy_of_its_check_env(oracle_agent_id, monkeypatch):
    # When the check env's oracle names the agent in a BenchmarkPolicy, that policy builds it.
    monkeypatch.setattr(StochasticBanditOracle, "benchmark_policies",
                        BestArmPolicyOracle.benchmark_policies)
    calls = []
    real = ac._policy_for
    monkeypatch.setattr(ac, "_policy_for", lambda o, s: calls.append(real(o, s)) or calls[-1])
    ac.check_default_constructible(oracle_agent_id)
    assert calls == ["best"]


def test_oracle_agent_that_copies_the_oracle():
    with pytest.raises(AssertionError, match="is not the oracle of any env built for it"):
        ac.check_reset_determinism(CopiesOracle)
    with pytest.raises(AssertionError, match="'oracle' is not stored verbatim"):
        ac.check_no_attributes_set_in_init(CopiesOracle)


def test_oracle_agent_not_constructible_from_the_oracle():
    with pytest.raises(AssertionError, match=r"building OracleNeedsMore from the oracle of "
                                             r"banditlab/Bernoulli-v0 .*no defaults that work"):
        ac.check_default_constructible(OracleNeedsMore)


def test_benchmark_policies_are_built_and_played(oracle_agent_id):
    ec.check_benchmark_policies(GenericTestEnv(oracle=BestArmPolicyOracle(np.array([0.2, 0.8]))))
    ec.check_benchmark_policies(GenericTestEnv())  # Agent instances are still accepted


@pytest.mark.parametrize("oracle_cls, pattern", [
    (CopiedOraclePolicy, "'best' -> 'oracle/GenericBestArm-v0': tagged needs_oracle but the "
                         "policy does not pass this env's oracle"),
    (OracleToPlainAgent, "passes an `oracle` but the agent is not tagged needs_oracle"),
    (UnknownIdPolicy, "oracle policy 'ghost' .*unknown agent 'NoSuchAgent-v0'"),
    (OutOfSpacePolicy, r"oracle policy 'bad' \(agent 'FixedArm-v0'\) failed: .*action"),
])
def test_broken_benchmark_policies(oracle_agent_id, oracle_cls, pattern):
    env = GenericTestEnv(oracle=oracle_cls(np.array([0.2, 0.8])))
    with pytest.raises(AssertionError, match=pattern):
        ec.check_benchmark_policies(env)


# --------------------------------------------------------------------------- display names
class Deviates(GenericTestAgent):
    """A documented variant.

    Deviations:
        Plays like the generic agent; the deviation is only declared (fixture).
    """

    deviation = "fixture deviation"


class UndocumentedDeviation(GenericTestAgent):
    """Declares a deviation without documenting it."""

    deviation = "fixture deviation"


class UndeclaredDeviation(GenericTestAgent):
    """Documents a deviation without declaring it.

    Deviations:
        Nothing would show it in the label.
    """


class TaggedVariant(GenericTestAgent):
    """Opt-in variant selected by a hyperparameter.

    Deviations:
        ``boost=True`` is ours (fixture).
    """

    def __init__(self, boost=False):
        self.boost = boost

    def variant_tags(self):
        return ("boost",) if self.boost else ()


class BadTags(TaggedVariant):
    """Returns a list.

    Deviations:
        Fixture.
    """

    def variant_tags(self):
        return ["boost"]


def test_display_name_and_deviation_declarations():
    ac.check_agent_display_name(GenericTestAgent())
    ac.check_agent_display_name(Deviates())
    ac.check_agent_display_name(TaggedVariant)
    assert Deviates().label() == "Generic test agent [fixture deviation]"
    assert TaggedVariant(boost=True).label() == "Generic test agent [boost]"
    assert TaggedVariant().label() == "Generic test agent"
    both = type("Both", (TaggedVariant,), {"deviation": "ours", "__doc__": TaggedVariant.__doc__})
    assert both(boost=True).label() == "Generic test agent [ours, boost]"

    nameless = _without(GenericTestAgent, "Nameless", (Agent,), {"display_name"})
    with pytest.raises(AssertionError, match="Nameless declares no display_name"):
        ac.check_agent_display_name(nameless)
    with pytest.raises(BanditlabError, match=r"^display_name: agent class .*Nameless declares no "
                                             r"display_name; add display_name"):
        nameless().label()
    for value, pattern in (("", "non-empty"), (" UCB1", "stripped"), ("UCB1 [x]", "bracket")):
        bad = type("BadName", (GenericTestAgent,), {"display_name": value})
        expected = re.escape(f"display_name = {value!r} ") + ".*" + pattern
        with pytest.raises(AssertionError, match=expected):
            ac.check_agent_display_name(bad)
    with pytest.raises(AssertionError, match="declares deviation = 'fixture deviation' but its "
                                             "docstring has no 'Deviations:' section"):
        ac.check_agent_display_name(UndocumentedDeviation)
    with pytest.raises(AssertionError, match="has a 'Deviations:' section but the class declares "
                                             "no `deviation`"):
        ac.check_agent_display_name(UndeclaredDeviation)
    with pytest.raises(AssertionError, match=r"variant_tags\(\) = \['boost'\] is not a tuple"):
        ac.check_agent_display_name(BadTags)
    assert ac.check_agent_display_name in ac.agent_checks(GenericTestAgent)
