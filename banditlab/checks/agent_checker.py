"""Conformance checks for banditlab agents, in scikit-learn's ``estimator_checks`` shape.

Each ``check_*`` function takes an agent subject (a registered agent id, an
agent instance, an :class:`AgentSubject`) and raises ``AssertionError`` whose
message says what went wrong and its most likely cause (texts in the module
constants below). Agents run on the env named by their ``check_env`` tag
(default: ``banditlab/Bernoulli-v0`` with ``horizon=200``), on the Python path
unless the check says otherwise.

Oracle agents (tag ``needs_oracle``: they take the env's live oracle as their
``oracle`` hyperparameter) are built from the oracle of a fresh check env, through
the oracle's :class:`~banditlab.core.BenchmarkPolicy` naming them when it offers one
(else with ``oracle=env.oracle`` and the registered defaults), and always play on
that same env instance.

Run them all with :func:`banditlab.checks.check_agent`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from banditlab.checks._common import (
    EnvSubject,
    env_subject,
    first_difference,
    global_random_state,
)
from banditlab.core import DEFAULT_TAGS, Agent, BanditlabError, KernelAgent, KernelEnv

__all__ = [
    "AgentSubject",
    "agent_subject",
    "check_agent_families",
    "check_agent_display_name",
    "check_default_constructible",
    "check_no_attributes_set_in_init",
    "check_get_params_clone",
    "check_reset_determinism",
    "check_reset_clears_state",
    "check_actions_in_space",
    "check_no_nan",
    "check_params_unchanged_by_update",
    "check_pickle_midrun",
    "check_incremental_equivalence",
    "check_kernel_matches_python",
    "check_kernel_reference",
    "check_learns",
    "agent_checks",
]

# --------------------------------------------------------------------------- messages
NOT_CONSTRUCTIBLE = (
    "{what} failed ({details}). Most likely cause: a hyperparameter without a default (give "
    "one, or a registered default that works on the family's default env)."
)
ORACLE_NOT_CONSTRUCTIBLE = (
    "{what} failed ({details}). Most likely cause: the check env's oracle offers no "
    "BenchmarkPolicy naming this agent and its other hyperparameters have no defaults that "
    "work on that env, or the agent reads the oracle before the env's reset."
)
ORACLE_NOT_SHARED = (
    "{name}: the agent's `oracle` is not the oracle of any env built for it ({details}). "
    "Most likely cause: __init__ or reset copies the oracle instead of storing the object "
    "verbatim; oracle agents must read the live oracle of the env they play."
)
FAMILIES_UNDECLARED = (
    "{cls} declares no `families` tag. Most likely cause: `_tags` lacks \"families\" (there "
    "is no default); list the declared families whose envs it runs on, home family first, "
    "e.g. `_tags = {{\"families\": (\"classic\",)}}`."
)
FAMILIES_INVALID = (
    "{cls}: tag families = {families!r} {problem}. Most likely cause: the tag must be a "
    "non-empty tuple of families declared with banditlab.registry.register_family (known: "
    "{known}); a plain string or list, a typo, or a family package that is never imported."
)
DISPLAY_NAME_MISSING = (
    "{cls} declares no display_name. Most likely cause: the class lacks `display_name: "
    "ClassVar[str] = \"...\"` (there is no default); use the published algorithm's name only "
    "when the class implements it as published, otherwise a name of our own."
)
DISPLAY_NAME_INVALID = (
    "{cls}: {field} = {value!r} {problem}. Most likely cause: {cause}"
)
DEVIATION_UNDOCUMENTED = (
    "{cls} {declares} but its docstring has no 'Deviations:' section. Most likely cause: a "
    "variant of a published algorithm (a class-wide deviation or opt-in variants selected by "
    "hyperparameters) must say in a 'Deviations:' section of its docstring what differs, "
    "why, and the measured effect (with the command that measured it)."
)
DEVIATION_UNDECLARED = (
    "{cls}'s docstring has a 'Deviations:' section but the class declares no `deviation` and "
    "does not override variant_tags(). Most likely cause: a departure from the published "
    "algorithm that its label would not show; set `deviation: ClassVar[str | None] = "
    "\"<short phrase>\"` (or variant_tags() for opt-in options)."
)
ATTRIBUTES_IN_INIT = (
    "__init__ set {details}. Most likely cause: learned state or derived values created in "
    "__init__; store each hyperparameter verbatim and create everything else in reset()."
)
PARAM_NOT_VERBATIM = (
    "hyperparameter {name!r} is not stored verbatim by __init__ ({details}). Most likely "
    "cause: __init__ converts or copies it; convert in reset()/make_kernel() instead."
)
CLONE_MISMATCH = (
    "type(a)(**a.get_params()) is not a clone: {details}. Most likely cause: get_params does "
    "not match the __init__ signature, or __init__ stores a modified value."
)
NOT_DETERMINISTIC = (
    "two agents reset with the same seed on the same env chose different actions: {details}. "
    "Most likely cause: randomness outside rng_ (global np.random, default_rng() without the "
    "seed) or state shared between instances (class attributes, mutable defaults)."
)
RESET_NOT_CLEARING = (
    "after a run, reset(seed=s) did not give the state of a fresh agent reset with s: "
    "{details}. Most likely cause: learned state created lazily or kept across resets."
)
ACTION_OUT_OF_SPACE = (
    "step {step}: action {action!r} is not in the action space {space}. Most likely cause: an "
    "off-by-one index, a wrong dtype or shape, or an unclipped continuous action."
)
NAN_PRODUCED = (
    "{where} contains NaN after {steps} steps. Most likely cause: 0/0 or log(0) in an update "
    "(unvisited actions, empty sums)."
)
PARAMS_CHANGED = (
    "get_params() changed during a run: {details}. Most likely cause: reset() or update() "
    "writes to a hyperparameter attribute; keep learned state in trailing-underscore names."
)
PICKLE_FAILED = (
    "the agent does not survive pickling {when} ({details}). Most likely cause: a lambda, a "
    "generator object or a compiled closure in an attribute."
)
PICKLE_DIVERGED = (
    "an agent restored from pickle mid-run acts differently from the original: {details}. "
    "Most likely cause: state dropped or rebuilt differently by __getstate__/__setstate__."
)
INCREMENTAL_DIVERGED = (
    "a fresh clone given the trailing-underscore attributes of an agent after 10 steps did "
    "not continue like one uninterrupted 20-step run: {details}. Most likely cause: learned "
    "state kept outside trailing-underscore attributes (names without '_', class or module "
    "globals, caches keyed by id)."
)
KERNEL_PYTHON_MISMATCH = (
    "the fused Numba loop and the Python loop disagree for this agent: {details}. Most "
    "likely cause: act()/update() do work the kernels do not (extra draws, conversions), or "
    "the kernel state is not updated in place."
)
KERNEL_NOT_JITTED = (
    "AgentKernel.{name} has no .py_func. Most likely cause: the kernel is not a module-level "
    "@njit(cache=True) function."
)
KERNEL_REFERENCE_MISMATCH = (
    "the jitted AgentKernel.{name} differs from its .py_func on the same inputs: {details}. "
    "Most likely cause: integer overflow, float32 promotion or a NumPy function whose Numba "
    "implementation differs; make the kernel explicit about dtypes."
)
DOES_NOT_LEARN = (
    "mean pseudo-regret {agent:.1f} is not below 1/4 of the uniform agent's {uniform:.1f} on "
    "Bernoulli(0.2, 0.8) with T={horizon} over {n_seeds} seeds. Most likely cause: a wrong "
    "index, an update that does not use the reward, or default hyperparameters that over-"
    "explore; tag learns=False if the agent is not meant to learn."
)
HARNESS_MISSING = (
    "banditlab.harness.run is not importable ({details}); this check needs it."
)

#: Steps of the short runs.
N_STEPS = 60
#: Learning check settings: arm means, horizon and seeds of :func:`check_learns`.
LEARNS_MEANS = (0.2, 0.8)
LEARNS_HORIZON = 2000
LEARNS_SEEDS = 5


# --------------------------------------------------------------------------- subjects
@dataclass
class AgentSubject:
    """What an agent check needs.

    Attributes:
        name: Readable id (registry id or class name).
        factory: Zero-argument callable returning a fresh, unreset agent.
        cls: The agent class.
        registry_id: Registry id when the subject came from one.
        xfail_checks: Declared expected failures (tag ``xfail_checks``).
        env: The :class:`EnvSubject` of the agent's ``check_env`` tag.
        from_class: The subject is a class (its ``__init__`` defaults are the raw inputs of
            ``check_no_attributes_set_in_init``).
        needs_oracle: The agent is tagged ``needs_oracle``: ``factory`` builds a fresh check
            env first and passes its oracle; the pair is remembered in ``paired_envs``.
        oracle_factory: ``oracle_factory(env) -> agent`` for ``needs_oracle`` subjects.
        paired_envs: ``id(oracle) -> (oracle, env)`` of the envs built for oracle agents
            during the current check (cleared when a check starts).
    """

    name: str
    factory: Callable[[], Agent]
    cls: type
    registry_id: str | None = None
    xfail_checks: Mapping[str, str] = field(default_factory=dict)
    env: EnvSubject | None = None
    from_class: bool = False
    needs_oracle: bool = False
    oracle_factory: Callable[[Any], Agent] | None = None
    paired_envs: dict[int, tuple[Any, Any]] = field(default_factory=dict, repr=False)


def _tags(cls) -> dict[str, Any]:
    if hasattr(cls, "get_tags"):
        return cls.get_tags()
    return dict(DEFAULT_TAGS)


def agent_class(agent: Any) -> type:
    """The class of an agent id, spec, instance or class (imports, never compiles)."""
    from banditlab.registry import AgentSpec, agent_spec, load_entry_point

    if isinstance(agent, AgentSubject):
        return agent.cls
    if isinstance(agent, AgentSpec):
        return load_entry_point(agent.entry_point)
    if isinstance(agent, str):
        return load_entry_point(agent_spec(agent).entry_point)
    if isinstance(agent, type):
        return agent
    return type(agent)


def agent_subject(agent: Any) -> AgentSubject:
    """Normalise a registered id, ``AgentSpec``, agent instance or class.

    For an agent tagged ``needs_oracle`` the subject's ``factory`` builds a fresh check
    env, then the agent from that env's oracle (see the module docstring), and pairs
    the two in ``paired_envs``.
    """
    from banditlab.registry import AgentSpec, make_agent

    if isinstance(agent, AgentSubject):
        return agent
    if isinstance(agent, AgentSpec):
        agent = agent.id
    if isinstance(agent, str):
        agent_id = agent
        cls = agent_class(agent_id)
        factory = lambda: make_agent(agent_id)  # noqa: E731
        name = agent_id
    elif isinstance(agent, type):
        cls = agent
        factory = cls
        name = cls.__name__
        agent_id = None
    elif isinstance(agent, Agent):
        cls = type(agent)
        pristine = copy.deepcopy(agent)
        factory = lambda: copy.deepcopy(pristine)  # noqa: E731
        name = getattr(agent, "registry_id", None) or cls.__name__
        agent_id = getattr(agent, "registry_id", None)
    else:
        raise BanditlabError(
            f"agent: expected an agent id, an AgentSpec, an Agent or an Agent class, got {agent!r}"
        )
    tags = _tags(cls)
    env_id, env_kwargs = tags.get("check_env", DEFAULT_TAGS["check_env"])
    subject = AgentSubject(
        name=name,
        factory=factory,
        cls=cls,
        registry_id=agent_id,
        xfail_checks=dict(tags.get("xfail_checks", {}) or {}),
        env=env_subject((env_id, dict(env_kwargs))),
        from_class=isinstance(agent, type),
    )
    if tags.get("needs_oracle", False):
        _bind_oracle_factory(subject, agent)
    return subject


def _policy_for(oracle: Any, subject: AgentSubject) -> str | None:
    """Name of the oracle's first BenchmarkPolicy that builds ``subject``'s agent, if any."""
    from banditlab.core import BenchmarkPolicy
    from banditlab.registry import agent_spec, load_entry_point

    for name, policy in sorted(oracle.benchmark_policies().items()):
        if not isinstance(policy, BenchmarkPolicy):
            continue
        if subject.registry_id is not None:
            if policy.agent_id == subject.registry_id:
                return name
        elif load_entry_point(agent_spec(policy.agent_id).entry_point) is subject.cls:
            return name
    return None


def _bind_oracle_factory(subject: AgentSubject, agent: Any) -> None:
    """Make ``subject.factory`` build a check env and the agent from that env's oracle."""
    from banditlab.registry import make_agent, make_benchmark_policy

    template = subject.factory if isinstance(agent, Agent) else None

    def oracle_factory(env) -> Agent:
        oracle = env.unwrapped.oracle
        if template is not None:  # an instance: its hyperparameters, this env's oracle
            params = {k: v for k, v in template().get_params().items() if k != "oracle"}
            built = subject.cls(**params, oracle=oracle)
            if subject.registry_id is not None:
                built.registry_id = subject.registry_id
            return built
        name = _policy_for(oracle, subject)
        if name is not None:
            return make_benchmark_policy(oracle, name)
        if subject.registry_id is not None:
            return make_agent(subject.registry_id, oracle=oracle)
        return subject.cls(oracle=oracle)

    def factory() -> Agent:
        env = subject.env.make()
        built = oracle_factory(env)
        oracle = env.unwrapped.oracle
        subject.paired_envs[id(oracle)] = (oracle, env)
        return built

    subject.needs_oracle = True
    subject.oracle_factory = oracle_factory
    subject.factory = factory


def _subject(agent: Any) -> AgentSubject:
    """The subject of a check, with the envs paired with oracle agents by earlier checks freed."""
    s = agent_subject(agent)
    s.paired_envs.clear()
    return s


def _env_for(s: AgentSubject, agent: Any):
    """The env ``agent`` plays.

    A fresh check env, or for an oracle agent the env it was built from (found through
    its ``oracle`` hyperparameter).
    """
    if not s.needs_oracle:
        return s.env.make()
    oracle = getattr(agent, "oracle", None)
    pair = s.paired_envs.get(id(oracle))
    assert pair is not None and pair[0] is oracle, ORACLE_NOT_SHARED.format(
        name=s.name, details=f"oracle={type(oracle).__name__}"
    )
    return pair[1]


# --------------------------------------------------------------------------- sessions
class _Session:
    """An agent playing an env on the Python path, resumable between calls."""

    def __init__(self, env, agent, *, env_seed: int, agent_seed: int, reset_agent: bool = True):
        self.env = env
        self.agent = agent
        self.obs, _ = env.reset(seed=env_seed)
        self.episodic = getattr(env, "run_kind", "continuing") == "episodic"
        if reset_agent:
            sim = getattr(env, "simulator", None) if _tags(type(agent))["needs_simulator"] else None
            agent.reset(env.action_space, env.observation_space, seed=agent_seed, simulator=sim)
        self.done = False
        self.steps = 0
        self.episodes = 0

    def advance(self, n: int, *, check_space: bool = False) -> list[tuple[Any, float]]:
        """Play up to ``n`` steps; returns ``(action, reward)`` records."""
        out = []
        space = self.env.action_space
        for _ in range(n):
            if self.done:
                break
            a = self.agent.act(self.obs)
            self.steps += 1
            if check_space:
                _assert_action_ok(a, space, self.steps)
            try:
                nobs, r, term, trunc, _info = self.env.step(a)
            except BanditlabError as exc:
                raise AssertionError(
                    ACTION_OUT_OF_SPACE.format(step=self.steps, action=a, space=space)
                    + f" (env said: {exc})"
                ) from exc
            self.agent.update(self.obs, a, r, nobs, term)
            out.append((a, r))
            self.obs = nobs
            if self.episodic and term:
                self.episodes += 1
                if self.episodes >= int(self.env.run_length):
                    self.done = True
                else:
                    self.obs, _ = self.env.reset()
            elif trunc and not self.episodic:
                self.done = True
        return out


def _assert_action_ok(a: Any, space, step: int) -> None:
    arr = np.asarray(a)
    if arr.dtype.kind in "fc":
        assert not np.isnan(arr).any(), NAN_PRODUCED.format(where=f"action {a!r}", steps=step)
    ok = False
    try:
        ok = bool(space.contains(a))
    except Exception:  # noqa: BLE001 - an exception means "not in the space"
        ok = False
    assert ok, ACTION_OUT_OF_SPACE.format(step=step, action=a, space=space)


def _play(subject: AgentSubject, agent, n: int = N_STEPS, *, env_seed=0, agent_seed=0, **kw):
    env = _env_for(subject, agent)
    return _Session(env, agent, env_seed=env_seed, agent_seed=agent_seed).advance(n, **kw)


def _make(subject: AgentSubject) -> Agent:
    try:
        return subject.factory()
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(
            NOT_CONSTRUCTIBLE.format(what=f"constructing {subject.name}",
                                     details=f"{type(exc).__name__}: {exc}")
        ) from exc


def _learned_state(agent) -> dict[str, Any]:
    return {k: v for k, v in vars(agent).items() if k.endswith("_") and not k.startswith("__")}


# --------------------------------------------------------------------------- checks
def check_agent_families(agent: Any) -> None:
    """The class declares its ``families`` tag: a non-empty tuple of declared families."""
    from banditlab.registry import known_families

    s = _subject(agent)
    cls = s.cls
    declared = False
    for klass in getattr(cls, "__mro__", (cls,)):
        if "families" in (vars(klass).get("_tags") or {}):
            declared = True
            break
    assert declared, FAMILIES_UNDECLARED.format(cls=cls.__name__)
    families = _tags(cls)["families"]
    known = known_families()
    fmt = functools.partial(FAMILIES_INVALID.format, cls=cls.__name__, families=families,
                            known=", ".join(known))
    assert isinstance(families, tuple), fmt(problem=f"is a {type(families).__name__}")
    assert families, fmt(problem="is empty")
    unknown = [f for f in families if f not in known]
    assert not unknown, fmt(problem=f"names undeclared families {unknown}")


def _has_deviations_section(cls: type) -> bool:
    doc = inspect.getdoc(cls) or ""
    return any(line.strip() == "Deviations:" for line in doc.splitlines())


def check_agent_display_name(agent: Any) -> None:
    """The class declares a non-empty ``display_name``; deviations are declared and documented.

    A class whose docstring has a ``Deviations:`` section declares ``deviation`` or
    overrides ``variant_tags`` (so :meth:`~banditlab.core.Agent.label` shows it), and a
    class that declares either has the section. ``variant_tags()`` of the default agent
    returns a tuple of non-empty strings.
    """
    s = _subject(agent)
    cls = s.cls
    name = getattr(cls, "display_name", None)
    assert name is not None, DISPLAY_NAME_MISSING.format(cls=cls.__name__)
    bad = functools.partial(DISPLAY_NAME_INVALID.format, cls=cls.__name__)
    assert isinstance(name, str) and name.strip() == name and name, bad(
        field="display_name", value=name, problem="is not a non-empty, stripped string",
        cause="a placeholder or a stray space.")
    assert not set("[]") & set(name), bad(
        field="display_name", value=name, problem="contains a bracket",
        cause="the deviation belongs in `deviation`; labels add it in brackets themselves.")
    deviation = getattr(cls, "deviation", None)
    assert deviation is None or (isinstance(deviation, str) and deviation.strip()), bad(
        field="deviation", value=deviation, problem="is neither None nor a non-empty string",
        cause="use None for a class that implements the published algorithm as published.")
    overrides_tags = getattr(cls, "variant_tags", Agent.variant_tags) is not Agent.variant_tags
    declares = [w for w, on in (("declares deviation = " + repr(deviation), deviation),
                                ("overrides variant_tags()", overrides_tags)) if on]
    documented = _has_deviations_section(cls)
    if declares:
        assert documented, DEVIATION_UNDOCUMENTED.format(cls=cls.__name__,
                                                         declares=" and ".join(declares))
    else:
        assert not documented, DEVIATION_UNDECLARED.format(cls=cls.__name__)
    if overrides_tags:
        a = _make(s)
        tags = a.variant_tags()
        assert isinstance(tags, tuple) and all(isinstance(t, str) and t.strip() for t in tags), (
            bad(field="variant_tags()", value=tags, problem="is not a tuple of non-empty strings",
                cause="return a tuple of short phrases, () when no opt-in option is on."))
        a.label()


def check_default_constructible(agent: Any) -> None:
    """The registered id (or the class with no arguments) builds and plays on its check env.

    An oracle agent (tag ``needs_oracle``) cannot be built without an env: it must build
    from the oracle of a fresh check env (see the module docstring) and play 5 steps on
    that env.
    """
    from banditlab.registry import make_agent

    s = _subject(agent)
    if s.needs_oracle:
        what = (f"building {s.name} from the oracle of {s.env.name} (tag needs_oracle) "
                f"then 5 steps")
        try:
            env = s.env.make()
            a = s.oracle_factory(env)
            _Session(env, a, env_seed=0, agent_seed=0).advance(5)
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(
                ORACLE_NOT_CONSTRUCTIBLE.format(what=what, details=f"{type(exc).__name__}: {exc}")
            ) from exc
        return
    what = f"make_agent({s.registry_id!r})" if s.registry_id else f"{s.cls.__name__}()"
    try:
        a = make_agent(s.registry_id) if s.registry_id else s.cls()
        _play(s, a, 5)
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(
            NOT_CONSTRUCTIBLE.format(what=what + f" then 5 steps on {s.env.name}",
                                     details=f"{type(exc).__name__}: {exc}")
        ) from exc


def check_no_attributes_set_in_init(agent: Any) -> None:
    """``__init__`` stores exactly its hyperparameters, verbatim (same objects), draws nothing.

    An oracle agent receives the live oracle of a check env as ``oracle`` and must store
    that very object.
    """
    import inspect

    from banditlab.registry import agent_spec

    s = _subject(agent)
    proto = _make(s)
    names = proto._param_names()
    try:
        current = proto.get_params()
    except AttributeError as exc:
        raise AssertionError(PARAM_NOT_VERBATIM.format(name=str(exc), details="missing")) from exc
    # Raw inputs: registered kwargs, else the signature's defaults, else the current values.
    sig = inspect.signature(s.cls.__init__).parameters
    registered = dict(agent_spec(s.registry_id).kwargs) if s.registry_id else {}
    params = {}
    for name in names:
        if name in registered:
            params[name] = registered[name]
        elif sig[name].default is not inspect.Parameter.empty and s.from_class:
            params[name] = sig[name].default
        else:
            params[name] = current[name]
    if s.needs_oracle and "oracle" in params:  # the live oracle of a check env, stored as is
        params["oracle"] = s.env.make().unwrapped.oracle
    before = global_random_state()
    a = s.cls(**params)
    assert first_difference(before, global_random_state()) is None, ATTRIBUTES_IN_INIT.format(
        details="the global random state (it drew random numbers)"
    )
    extra = sorted(set(vars(a)) - set(names) - {"registry_id"})
    assert not extra, ATTRIBUTES_IN_INIT.format(details=", ".join(extra))
    for name in names:
        assert name in vars(a), PARAM_NOT_VERBATIM.format(name=name, details="not set")
        assert vars(a)[name] is params[name], PARAM_NOT_VERBATIM.format(
            name=name, details=f"passed {params[name]!r}, stored {vars(a)[name]!r}"
        )


def check_get_params_clone(agent: Any) -> None:
    """``type(a)(**a.get_params())`` and ``a.clone()`` have equal params and act identically.

    For an oracle agent the clone's ``oracle`` (a deep copy) is compared by type only.
    """
    s = _subject(agent)
    a = _make(s)
    params = a.get_params()
    b = s.cls(**params)
    d = first_difference(params, b.get_params(), "get_params")
    assert d is None, CLONE_MISMATCH.format(details=d)
    c = a.clone()
    cparams = c.get_params()
    if s.needs_oracle:
        # clone() deep-copies hyperparameters, the live oracle included (its copy reads a
        # snapshot, not an env): compare the oracle by type and the rest by value.
        mine, theirs = params.get("oracle"), cparams.pop("oracle", None)
        params = {k: v for k, v in params.items() if k != "oracle"}
        assert type(mine) is type(theirs), CLONE_MISMATCH.format(
            details=f"clone().oracle is a {type(theirs).__name__}, not a {type(mine).__name__}")
    d = first_difference(params, cparams, "clone().get_params")
    assert d is None, CLONE_MISMATCH.format(details=d)
    ta = _play(s, a, 30, env_seed=1, agent_seed=2)
    tb = _play(s, b, 30, env_seed=1, agent_seed=2)
    d = first_difference(ta, tb, "actions")
    assert d is None, CLONE_MISMATCH.format(details=d)


def check_reset_determinism(agent: Any) -> None:
    """Two agents reset with one seed on two envs with one seed play identical actions."""
    s = _subject(agent)
    ta = _play(s, _make(s), env_seed=3, agent_seed=4)
    tb = _play(s, _make(s), env_seed=3, agent_seed=4)
    d = first_difference(ta, tb, "actions")
    assert d is None, NOT_DETERMINISTIC.format(details=d)


def check_reset_clears_state(agent: Any) -> None:
    """After a run, ``reset(seed=s)`` gives the same learned state and actions as a fresh agent."""
    s = _subject(agent)
    used = _make(s)
    _play(s, used, env_seed=5, agent_seed=6)
    fresh = _make(s)
    env_u, env_f = _env_for(s, used), _env_for(s, fresh)
    su = _Session(env_u, used, env_seed=7, agent_seed=8)
    sf = _Session(env_f, fresh, env_seed=7, agent_seed=8)
    stale = sorted(set(_learned_state(used)) - set(_learned_state(fresh)))
    assert not stale, RESET_NOT_CLEARING.format(
        details=f"attributes {stale} survive reset (a fresh agent's reset does not create them)"
    )
    d = first_difference(_learned_state(used), _learned_state(fresh), "state after reset")
    assert d is None, RESET_NOT_CLEARING.format(details=d)
    d = first_difference(su.advance(N_STEPS), sf.advance(N_STEPS), "actions")
    assert d is None, RESET_NOT_CLEARING.format(details=d)


def check_actions_in_space(agent: Any) -> None:
    """Every action of a run is in ``action_space`` (and never NaN)."""
    s = _subject(agent)
    _play(s, _make(s), 2 * N_STEPS, env_seed=9, agent_seed=10, check_space=True)


def _float_arrays(obj: Any, path: str, depth: int = 0):
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            yield path, obj
        return
    if isinstance(obj, (float, np.floating)):
        yield path, np.asarray(obj)
        return
    if depth > 3:
        return
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _float_arrays(v, f"{path}[{k!r}]", depth + 1)
    elif isinstance(obj, tuple) and hasattr(obj, "_fields"):
        for k in obj._fields:
            yield from _float_arrays(getattr(obj, k), f"{path}.{k}", depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj[:1000]):
            yield from _float_arrays(v, f"{path}[{i}]", depth + 1)


def check_no_nan(agent: Any) -> None:
    """No NaN in actions, and no NaN appears in the learned state during a run.

    Float arrays of the learned state (trailing-underscore attributes, one level
    into NamedTuples, tuples and mappings) are compared after ``reset`` and after
    the run: an entry that is NaN at the end must already be NaN after ``reset``
    (agents may use NaN as an explicit "unset" sentinel).
    """
    s = _subject(agent)
    a = _make(s)
    env = _env_for(s, a)
    sess = _Session(env, a, env_seed=11, agent_seed=12)
    start = {p: np.isnan(arr).copy() for p, arr in _float_arrays(_learned_state(a), "agent")}
    sess.advance(2 * N_STEPS, check_space=True)
    for path, arr in _float_arrays(_learned_state(a), "agent"):
        new = np.isnan(arr)
        if path in start and start[path].shape == new.shape:
            new = new & ~start[path]
        assert not new.any(), NAN_PRODUCED.format(where=path, steps=sess.steps)


def check_params_unchanged_by_update(agent: Any) -> None:
    """``get_params()`` is the same before ``reset`` and after a run."""
    s = _subject(agent)
    a = _make(s)
    params = a.get_params()
    # An oracle agent's `oracle` is the live oracle, which the env updates: it must stay the
    # same object; every other hyperparameter must keep its value.
    live = params.pop("oracle", None) if s.needs_oracle else None
    before = copy.deepcopy(params)
    _play(s, a, env_seed=13, agent_seed=14)
    after = a.get_params()
    if s.needs_oracle:
        assert after.pop("oracle", None) is live, PARAMS_CHANGED.format(
            details="the `oracle` hyperparameter is no longer the env's oracle object")
    d = first_difference(before, after, "get_params")
    assert d is None, PARAMS_CHANGED.format(details=d)


def _roundtrip(obj, when: str):
    try:
        return pickle.loads(pickle.dumps(obj))
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(PICKLE_FAILED.format(when=when,
                                                  details=f"{type(exc).__name__}: {exc}")) from exc


def check_pickle_midrun(agent: Any) -> None:
    """An unreset agent pickles; an agent pickled after 20 steps continues identically.

    The env is not pickled: a second env with the same seed replays the first 20
    actions, so only the agent's pickling is tested.
    """
    s = _subject(agent)
    _roundtrip(_make(s), "before reset")
    a = _make(s)
    sess_a = _Session(_env_for(s, a), a, env_seed=15, agent_seed=16)
    head = sess_a.advance(20)
    if s.needs_oracle:
        # The agent holds the env's live oracle: pickle the pair, so the copy of the agent
        # reads the copy of the env's oracle.
        env_b, b = _roundtrip((sess_a.env, a), "after 20 steps (together with its env)")
        sess_b = _Session.__new__(_Session)
        sess_b.__dict__.update(env=env_b, agent=b, obs=copy.deepcopy(sess_a.obs),
                               episodic=sess_a.episodic, done=sess_a.done,
                               steps=sess_a.steps, episodes=sess_a.episodes)
        d = first_difference(sess_a.advance(N_STEPS), sess_b.advance(N_STEPS), "actions")
        assert d is None, PICKLE_DIVERGED.format(details=d)
        return
    env_b = s.env.make()
    obs, _ = env_b.reset(seed=15)
    episodic = getattr(env_b, "run_kind", "continuing") == "episodic"
    episodes = 0
    for act, _r in head:
        obs, _r2, term, _trunc, _ = env_b.step(act)
        if episodic and term:
            episodes += 1
            if episodes < int(env_b.run_length):
                obs, _ = env_b.reset()
    b = _roundtrip(a, "after 20 steps")
    sess_b = _Session.__new__(_Session)
    sess_b.__dict__.update(env=env_b, agent=b, obs=obs, episodic=episodic, done=sess_a.done,
                           steps=sess_a.steps, episodes=sess_a.episodes)
    d = first_difference(sess_a.advance(N_STEPS), sess_b.advance(N_STEPS), "actions")
    assert d is None, PICKLE_DIVERGED.format(details=d)


def check_incremental_equivalence(agent: Any) -> None:
    """Two 10-step runs with the agent state carried over equal one 20-step run.

    Precisely: agent A plays 20 steps (env seed e, agent seed s). Agent B plays the
    first 10 steps with the same seeds; a fresh ``type(B)(**B.get_params())`` then
    receives deep copies of B's trailing-underscore attributes (the learned state,
    ``rng_`` included) and plays steps 11-20 on B's env. Its actions and rewards
    must equal A's steps 11-20, i.e. all learned state lives in trailing-underscore
    attributes.
    """
    s = _subject(agent)
    a = _make(s)
    full = _Session(_env_for(s, a), a, env_seed=17, agent_seed=18).advance(20)
    b = _make(s)
    sess = _Session(_env_for(s, b), b, env_seed=17, agent_seed=18)
    first = sess.advance(10)
    c = s.cls(**b.get_params())
    for k, v in _learned_state(b).items():
        setattr(c, k, copy.deepcopy(v))
    sess.agent = c
    try:
        second = sess.advance(10)
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - missing state usually surfaces as an error
        raise AssertionError(INCREMENTAL_DIVERGED.format(
            details=f"the continued clone raised {type(exc).__name__}: {exc}")) from exc
    d = first_difference(full, first + second, "steps 1-20")
    assert d is None, INCREMENTAL_DIVERGED.format(details=d)


def _harness_run():
    try:
        from banditlab.harness import run
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(
            HARNESS_MISSING.format(details=f"{type(exc).__name__}: {exc}")
        ) from exc
    return run


def check_kernel_matches_python(agent: Any) -> None:
    """Fused and Python harness paths agree bit for bit, at every step.

    Applies to a :class:`KernelAgent` whose check env is a continuing :class:`KernelEnv`, or
    an episodic env with an episodic kernel (rounds are episodes):
    ``harness.run(backend="kernel")`` must equal ``backend="python"``.
    """
    from banditlab.checks.env_checker import compare_run_results
    from banditlab.loops import fused_path_available

    s = _subject(agent)
    env = s.env.make()
    if not issubclass(s.cls, KernelAgent):
        return
    kind = getattr(env, "run_kind", "continuing")
    if kind != ("continuing" if isinstance(env, KernelEnv) else "episodic"):
        return
    run = _harness_run()
    n = min(int(env.run_length), 200)
    grid = np.arange(1, n + 1, dtype=np.int64)
    ak, ap = _make(s), _make(s)
    env_k = _env_for(s, ak)
    if not fused_path_available(env_k, ak):  # an episodic env without an episodic kernel
        return
    rk = run(env_k, ak, seed=19, run_length=n, checkpoints=grid, backend="kernel")
    rp = run(_env_for(s, ap), ap, seed=19, run_length=n, checkpoints=grid, backend="python")
    d = compare_run_results(rk, rp)
    assert d is None, KERNEL_PYTHON_MISMATCH.format(details=d)


def _ref_compare(name: str, jit_out, py_out) -> None:
    d = first_difference(jit_out, py_out, name, rtol=1e-9, atol=1e-12)
    assert d is None, KERNEL_REFERENCE_MISMATCH.format(name=name, details=d)


def check_kernel_reference(agent: Any) -> None:
    """Each jitted kernel (``init``, ``select``, ``update``) equals its ``.py_func``.

    Along a run on the check env, every call is made twice from deep copies of the
    same state and generator, once jitted and once as plain Python. Integer actions
    and generator states must be identical; float actions and float state may differ
    by 1e-9 relative (Numba and NumPy sum and exponentiate in different orders).
    """
    s = _subject(agent)
    if not issubclass(s.cls, KernelAgent):
        return
    a = _make(s)
    env = _env_for(s, a)
    sess = _Session(env, a, env_seed=21, agent_seed=22)
    k = a.kernel_
    for name in ("init", "select", "update"):
        assert hasattr(getattr(k, name), "py_func"), KERNEL_NOT_JITTED.format(name=name)
    r1, r2 = np.random.default_rng(23), np.random.default_rng(23)
    _ref_compare("init", (k.init(a.dims_, k.hparams, r1), r1),
                 (k.init.py_func(a.dims_, k.hparams, r2), r2))
    from banditlab.core import KernelEnv as _KE

    # Episodic envs with an episodic kernel convert their own observations (e.g. dicts).
    uenv = getattr(env, "unwrapped", env)
    to_kobs = (_KE.obs_to_kernel_obs if isinstance(uenv, _KE)
               else getattr(type(uenv), "obs_to_kernel_obs", _KE.obs_to_kernel_obs))
    for _ in range(N_STEPS):
        if sess.done:
            break
        kobs = to_kobs(sess.obs)
        t = a.t_ + 1
        sj, sp = copy.deepcopy(a.state_), copy.deepcopy(a.state_)
        rj, rp = copy.deepcopy(a.rng_), copy.deepcopy(a.rng_)
        aj = k.select(sj, k.hparams, kobs, t, rj)
        ap = k.select.py_func(sp, k.hparams, kobs, t, rp)
        # Integer actions must match exactly; float actions to the state tolerance.
        d = first_difference(np.asarray(aj), np.asarray(ap), "select action",
                             rtol=1e-9, atol=1e-12)
        assert d is None, KERNEL_REFERENCE_MISMATCH.format(name="select", details=d)
        _ref_compare("select", (sj, rj), (sp, rp))
        prev_obs = sess.obs
        (act, reward), = sess.advance(1)
        # Redo this step's update from the pre-update state (the session already applied it).
        pre = sj
        uj, up = copy.deepcopy(pre), copy.deepcopy(pre)
        kact = a.action_to_kernel_action(act)
        knext = to_kobs(sess.obs)
        kprev = to_kobs(prev_obs)
        k.update(uj, k.hparams, kprev, kact, float(reward), knext)
        k.update.py_func(up, k.hparams, kprev, kact, float(reward), knext)
        _ref_compare("update", uj, up)


def _uniform_regret(run, env_kwargs) -> list[float]:
    from banditlab.agents.classic.baselines import Uniform

    out = []
    for seed in range(LEARNS_SEEDS):
        res = run(("banditlab/Bernoulli-v0", env_kwargs), Uniform(), seed=seed)
        out.append(res.finals["pseudo_regret/stochastic"])
    return out


def check_learns(agent: Any) -> None:
    """Mean pseudo-regret on Bernoulli(0.2, 0.8), T=2000, 5 seeds is < 1/4 of uniform's.

    Applies to agents tagged ``learns`` whose check env is the default Bernoulli env
    (family agents have their own learning checks in the family tests).
    """
    s = _subject(agent)
    run = _harness_run()
    env_kwargs = {"means": LEARNS_MEANS, "horizon": LEARNS_HORIZON}
    if s.needs_oracle:  # built from the oracle of the very env it plays
        from banditlab.registry import make_env

        def env_and_agent():
            env = make_env("banditlab/Bernoulli-v0", **env_kwargs)
            return env, s.oracle_factory(env)
    else:
        def env_and_agent():
            return ("banditlab/Bernoulli-v0", env_kwargs), _make(s)
    mine = [
        run(*env_and_agent(), seed=seed).finals["pseudo_regret/stochastic"]
        for seed in range(LEARNS_SEEDS)
    ]
    uni = _uniform_regret(run, env_kwargs)
    m_a, m_u = float(np.mean(mine)), float(np.mean(uni))
    assert math.isfinite(m_a) and m_a < 0.25 * m_u, DOES_NOT_LEARN.format(
        agent=m_a, uniform=m_u, horizon=LEARNS_HORIZON, n_seeds=LEARNS_SEEDS
    )


# --------------------------------------------------------------------------- registry of checks
_ALWAYS = (
    check_agent_families,
    check_agent_display_name,
    check_default_constructible,
    check_no_attributes_set_in_init,
    check_get_params_clone,
    check_reset_determinism,
    check_reset_clears_state,
    check_actions_in_space,
    check_no_nan,
    check_params_unchanged_by_update,
    check_pickle_midrun,
    check_incremental_equivalence,
)


def agent_checks(cls: type) -> list[Callable[[Any], None]]:
    """The checks that apply to agents of class ``cls``, in running order.

    Kernel checks apply to :class:`KernelAgent` subclasses (the fused-parity one
    only when the ``check_env`` tag names a continuing :class:`KernelEnv` or an episodic
    env, which it skips when the env has no episodic kernel);
    ``check_learns`` to agents tagged ``learns`` whose ``check_env`` is the
    default Bernoulli env.
    """
    from banditlab.checks._common import entry_env_class

    checks = list(_ALWAYS)
    tags = _tags(cls)
    env_id = tags.get("check_env", DEFAULT_TAGS["check_env"])[0]
    if isinstance(cls, type) and issubclass(cls, KernelAgent):
        env_cls = entry_env_class(env_id)
        if isinstance(env_cls, type) and (
                (issubclass(env_cls, KernelEnv)
                 and getattr(env_cls, "run_kind", "continuing") == "continuing")
                or getattr(env_cls, "run_kind", None) == "episodic"):
            checks.append(check_kernel_matches_python)
        checks.append(check_kernel_reference)
    if tags.get("learns") and env_id == DEFAULT_TAGS["check_env"][0]:
        checks.append(check_learns)
    return checks
