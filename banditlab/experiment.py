"""Experiments as data: a TOML file and the equivalent Python API.

An experiment is environments x agents x seeds, with an optional run length
and checkpoint grid. Example (``banditlab/benchmarks/quickstart.toml``)::

    name = "quickstart"
    n_seeds = 8
    root_seed = 0
    run_length = 2000           # optional: sets each env's horizon / n_episodes
    checkpoints = "default"     # or an integer n (n evenly spaced) or a list of rounds
    imports = []                # modules to import (third-party registration): runs their code

    [[envs]]
    id = "banditlab/Bernoulli10-v0"
    kwargs = {}

    [[agents]]
    id = "UCB1-v0"
    label = "UCB1 (tuned)"      # optional: must start with the agent's own label()
    kwargs = { alpha = 2.0 }    # "@known:<name>" and "@run_length" are bound per env
    grid = { alpha = [0.5, 1.0, 2.0] }   # optional sweep: one agent per value

    [scales.smoke]              # optional: what ``--scale smoke`` means (also reduced);
    n_seeds = 2                 # n_seeds, run_length, checkpoints, envs / agents kept,
    run_length = 200            # grid values; full is the file as written

    [plot]                      # optional default plot metric (kind or metric)
    kind = "stochastic"

    [[claims]]                  # optional: what it shows (banditlab.claims); with a
    id = "ucb1_below_uniform"   # top-level paper = "<key>" naming the paper it reproduces

Agent labels are derived from the agents (:meth:`Experiment.resolve_labels`). Everything
is validated before anything runs; each error is one line naming
the field and what is allowed. The order is: every field that needs no registry
(types, values, labels, module names in ``imports``), then ``imports``, then ids,
kwargs and bindings.

**Imports execute code**, as any Python import does. They are module names only
(no file paths), resolved from installed packages and from the directories the
user passes explicitly (``import_path=[...]``, ``--import-path DIR``), never from
the experiment file's directory or the current directory (a ``.py`` file lying
next to someone else's TOML is not imported unless its directory is passed). The
results directory records the imports, so ``banditlab rerun`` imports them again.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import itertools
import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from banditlab.claims import check_claim_references, parse_claims
from banditlab.core import BanditlabError
from banditlab.results import SCHEMA_VERSION
from banditlab.seeding import digest, digest32, digest_series, seeds_from_digests

__all__ = [
    "EnvConfig",
    "AgentConfig",
    "Experiment",
    "Task",
    "TaskSeeds",
    "load_experiment",
    "find_experiment",
    "import_modules",
    "check_module_names",
    "require_banditlab_env",
    "default_checkpoints",
    "validate_checkpoints",
    "SCALES",
    "CUSTOM_SCALE",
    "apply_scale",
    "check_scales",
    "check_plot",
    "check_cost",
]

_TOP_KEYS = {"name", "n_seeds", "root_seed", "run_length", "checkpoints", "imports", "envs",
             "agents", "description", "scales", "plot", "cost", "paper", "claims"}
_ENV_KEYS = {"id", "kwargs", "grid", "label"}
_AGENT_KEYS = {"id", "kwargs", "label", "grid"}

_BSUITE_RATIOS = (1, 1.2, 1.4, 1.7, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)


def default_checkpoints(run_length: int, n_linear: int = 200) -> np.ndarray:
    """The union of log-spaced rounds (bsuite's ratios x 10^k) and every ceil(T/200) rounds.

    Args:
        run_length: T (>= 1).
        n_linear: Number of evenly spaced checkpoints.

    Returns:
        int64[n] sorted unique rounds in ``[1, T]``, always ending with ``T``.
    """
    pts = set()
    k = 0
    while 10**k <= run_length:
        for r in _BSUITE_RATIOS:
            v = int(round(r * 10**k))
            if v <= run_length:
                pts.add(v)
        k += 1
    step = max(1, -(-run_length // n_linear))
    pts.update(range(step, run_length + 1, step))
    pts.add(run_length)
    return np.array(sorted(pts), dtype=np.int64)


def validate_checkpoints(checkpoints: Any, run_length: int) -> np.ndarray:
    """Resolve a checkpoints spec (``None``/"default", an int, or a list) for one run length."""
    if checkpoints is None or (isinstance(checkpoints, str) and checkpoints == "default"):
        return default_checkpoints(run_length)
    if isinstance(checkpoints, bool):
        raise BanditlabError("checkpoints: expected 'default', an integer >= 1 or a list of rounds")
    if isinstance(checkpoints, (int, np.integer)):
        if checkpoints < 1:
            raise BanditlabError(f"checkpoints: expected an integer >= 1, got {checkpoints}")
        n = min(int(checkpoints), run_length)
        pts = np.unique(np.ceil(np.linspace(run_length / n, run_length, n)).astype(np.int64))
        return pts
    if isinstance(checkpoints, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(checkpoints)
        except (TypeError, ValueError):
            raise BanditlabError("checkpoints: a list must hold integers") from None
        if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
            raise BanditlabError("checkpoints: a list must hold integers")
        if np.any(arr < 1) or np.any(arr > run_length):
            raise BanditlabError(f"checkpoints: rounds must lie in [1, {run_length}]")
        arr = np.unique(arr.astype(np.int64))
        if arr[-1] != run_length:
            arr = np.append(arr, run_length)
        return arr
    raise BanditlabError(
        f"checkpoints: expected 'default', an integer >= 1 or a list of rounds, got {checkpoints!r}"
    )


def _plain_gym_message(where: str, env_id: str) -> str:
    return (f"{where}: {env_id!r} is a plain Gymnasium environment: it has no banditlab oracle "
            "(expected rewards, regret comparators) and no run length, so regret cannot be "
            "recorded; wrap it in a banditlab env (README, 'Extending')")


def require_banditlab_env(env: Any, env_id: str, where: str = "env") -> None:
    """Raise a one-line error for an env without an ``oracle`` and a ``run_length``."""
    from banditlab.core import Oracle

    if not isinstance(getattr(env, "oracle", None), Oracle) or not hasattr(env, "run_length"):
        raise BanditlabError(_plain_gym_message(where, env_id))


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def check_module_names(modules: Any, where: str = "imports") -> list[str]:
    """Check that ``modules`` is a list of dotted module names (no file paths); nothing is imported.

    Raises:
        BanditlabError: One line naming the first bad entry.
    """
    if not isinstance(modules, (list, tuple)) or not all(isinstance(m, str) for m in modules):
        raise BanditlabError(f"{where}: expected a list of module names")
    for i, m in enumerate(modules):
        if not _MODULE_NAME.match(m) or m.endswith(".py"):
            hint = ""
            if "/" in m or "\\" in m or m.endswith(".py"):
                hint = (" (a file path? give the module name, e.g. 'my_agents', and pass its "
                        "directory with --import-path)")
            raise BanditlabError(f"{where}[{i}]: {m!r} is not a module name{hint}")
    return list(modules)


def _real(path: str) -> str:
    return os.path.realpath(path or ".")


def import_modules(modules: Sequence[str], import_path: Sequence[str | os.PathLike] = (), *,
                   blocked: Sequence[str | os.PathLike] = (), where: str = "imports") -> None:
    """Import modules by name from installed packages and explicit directories only.

    The directories of ``import_path`` are put at the front of ``sys.path`` (and
    stay there, for lazy imports of the modules). While importing, the implicit
    entries of ``sys.path`` are hidden: ``""``/``"."`` (the current directory of an
    interactive session or ``python -c``) and ``sys.path[0]`` when it is the current
    directory or one of ``blocked`` (e.g. the experiment file's directory). Importing
    runs the modules' code.

    Args:
        modules: Dotted module names.
        import_path: Directories the user passed explicitly.
        blocked: Further directories whose files must not be imported implicitly.
        where: Field named in error messages.

    Raises:
        BanditlabError: One line for a bad name, a missing directory, or a failed import.
    """
    check_module_names(list(modules), where)
    paths = []
    for d in import_path:
        p = Path(d).expanduser()
        if not p.is_dir():
            raise BanditlabError(f"import_path: {str(d)!r} is not a directory")
        paths.append(str(p.resolve()))
    for p in reversed(paths):
        if p not in sys.path:
            sys.path.insert(0, p)
    todo = [m for m in modules if m not in sys.modules]
    if not todo:
        return
    allowed = {_real(p) for p in paths}
    hidden_dirs = {_real(str(b)) for b in (os.getcwd(), *blocked)} - allowed
    saved = list(sys.path)
    keep = []
    for i, entry in enumerate(saved):
        implicit = entry in ("", ".") or (i == 0 and _real(entry) in hidden_dirs)
        if not (implicit and _real(entry) not in allowed):
            keep.append(entry)
    sys.path[:] = keep
    try:
        for m in todo:
            try:
                importlib.import_module(m)
            except ImportError as exc:
                top = m.split(".")[0]
                near = next((d for d in sorted(hidden_dirs)
                             if (Path(d) / f"{top}.py").is_file()
                             or (Path(d) / top / "__init__.py").is_file()), None)
                hint = (f"; {top!r} in {near!r} is imported only if you pass that directory "
                        "(--import-path)" if near else
                        "; modules come from installed packages and --import-path directories")
                raise BanditlabError(f"{where}: cannot import {m!r} ({exc}){hint}") from None
            except Exception as exc:  # noqa: BLE001 - a plugin's own error, one line
                raise BanditlabError(
                    f"{where}: importing {m!r} raised {type(exc).__name__}: {exc}"
                ) from None
    finally:
        added = [e for e in sys.path if e not in keep]  # entries the modules added themselves
        sys.path[:] = added + saved


@dataclass(frozen=True)
class EnvConfig:
    """An environment of an experiment: a registered id and constructor kwargs."""

    id: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def display(self) -> str:
        """The label, or the id."""
        return self.label or self.id

    def as_dict(self) -> dict[str, Any]:
        """``{"id": ..., "kwargs": ...}``: the identity used for seeds and task ids."""
        return {"id": self.id, "kwargs": dict(self.kwargs)}


@dataclass(frozen=True)
class AgentConfig:
    """An agent of an experiment: a registered id (or ``oracle:<name>``) and hyperparameters.

    Attributes:
        id: A registered agent id, or ``oracle:<name>`` (a benchmark policy of the env's
            oracle).
        kwargs: Hyperparameters (``"@known:<name>"`` and ``"@run_length"`` are bound per env).
        label: Optional label written by the user; it must start with the agent's own
            label (:meth:`banditlab.core.Agent.label`), e.g. ``"UCRL2 (delta=0.1)"``.
        suffix: ``"<param>=<value>,..."`` of a grid point (shown after the label).
        derived: The agent's own label, filled in by :meth:`Experiment.resolve_labels`.
        entry: Position of the ``[[agents]]`` entry it came from (for messages).
    """

    id: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None
    suffix: str = ""
    derived: str | None = field(default=None, compare=False)
    entry: int | None = field(default=None, compare=False)

    @property
    def display(self) -> str:
        """The label shown in results and plots: the given or derived label, then the grid point.

        Raises:
            BanditlabError: When neither a label is given nor the agent's label derived
                yet (:meth:`Experiment.resolve_labels` derives it).
        """
        base = self.label or self.derived
        if base is None:
            raise BanditlabError(
                f"agent {self.id!r}: its label is not derived yet (call "
                "Experiment.resolve_labels() or Experiment.validate() first)"
            )
        return f"{base} ({self.suffix})" if self.suffix else base


class TaskSeeds:
    """A task's ``(env_seed, agent_seed, spawn_keys)``, derived when first used.

    Deriving them (:func:`banditlab.seeding.seeds_from_digests`, two ``SeedSequence``
    hashes) costs about 30 us, most of the time it takes to build a task: the tasks
    of a sweep carry the configs' digests, and the process that runs a task derives
    its seeds.
    """

    __slots__ = ("_args", "_value")

    def __init__(self, root_seed: int, env_digest: int, agent_digest: int, run_index: int):
        self._args = (int(root_seed), int(env_digest), int(agent_digest), int(run_index))
        self._value: tuple[int, int, dict[str, list[int]]] | None = None

    @classmethod
    def given(cls, env_seed: int, agent_seed: int, spawn_keys: dict[str, list[int]]
              ) -> TaskSeeds:
        """Seeds known already (a task rebuilt from its manifest entry)."""
        out = cls.__new__(cls)
        out._args = None
        out._value = (int(env_seed), int(agent_seed), spawn_keys)
        return out

    def value(self) -> tuple[int, int, dict[str, list[int]]]:
        """``(env_seed, agent_seed, spawn_keys)``."""
        if self._value is None:
            self._value = seeds_from_digests(*self._args)
        return self._value

    def __getstate__(self):
        return (self._args, self._value)

    def __setstate__(self, state) -> None:
        self._args, self._value = state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskSeeds) and self.value() == other.value()

    def __hash__(self) -> int:
        return hash(self.value()[:2])

    def __repr__(self) -> str:
        env_seed, agent_seed, _ = self.value()
        return f"TaskSeeds(env_seed={env_seed}, agent_seed={agent_seed})"


@dataclass(frozen=True)
class Task:
    """One (env, agent, run index) with bound hyperparameters, seeds and identity."""

    env: EnvConfig
    agent: AgentConfig
    agent_params: dict[str, Any]
    run_index: int
    root_seed: int
    run_length: int
    checkpoints: tuple[int, ...]
    task_id: str
    seeds: TaskSeeds
    imports: tuple[str, ...] = ()
    import_path: tuple[str, ...] = ()

    @property
    def env_seed(self) -> int:
        """Seed of ``env.reset`` (:func:`banditlab.seeding.task_seeds`)."""
        return self.seeds.value()[0]

    @property
    def agent_seed(self) -> int:
        """Seed of ``agent.reset`` (:func:`banditlab.seeding.task_seeds`)."""
        return self.seeds.value()[1]

    @property
    def spawn_keys(self) -> dict[str, list[int]]:
        """The env and agent ``SeedSequence`` spawn keys."""
        return self.seeds.value()[2]

    @property
    def run_id(self) -> str:
        """``{env_label}__{agent_label}__{seed_index}``."""
        return f"{self.env.display}__{self.agent.display}__{self.run_index}"

    def metadata(self) -> dict[str, Any]:
        """JSON-serialisable description (used for error entries)."""
        return {
            "task_id": self.task_id,
            "run_id": self.run_id,
            "env_id": self.env.id,
            "env_label": self.env.display,
            "env_kwargs": dict(self.env.kwargs),
            "agent_id": self.agent.id,
            "agent_label": self.agent.display,
            "agent_params": self.agent_params,
            "seed_index": self.run_index,
            "root_seed": self.root_seed,
            "run_length": self.run_length,
            "imports": list(self.imports),
        }


def _expand_grid(base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], where: str):
    if not isinstance(grid, Mapping):
        raise BanditlabError(f"{where}.grid: expected a table of lists")
    for k, v in grid.items():
        if not isinstance(v, (list, tuple)) or not v:
            raise BanditlabError(f"{where}.grid.{k}: expected a non-empty list of values")
    keys = list(grid)
    for combo in itertools.product(*(grid[k] for k in keys)):
        yield {**base, **dict(zip(keys, combo, strict=True))}, dict(zip(keys, combo, strict=True))


def _parse_entries(raw: Any, field_name: str, what: str, allowed: set[str], config_cls):
    """Validate ``[[envs]]`` or ``[[agents]]`` tables and expand their grids into configs."""
    if not isinstance(raw, list) or not raw:
        raise BanditlabError(f"{field_name}: expected a non-empty list of [[{field_name}]] tables")
    out = []
    for i, entry in enumerate(raw):
        where = f"{field_name}[{i}]"
        if not isinstance(entry, Mapping):
            raise BanditlabError(f"{where}: expected a table with 'id' and optional 'kwargs'")
        bad = set(entry) - allowed
        if bad:
            raise BanditlabError(f"{where}: unknown field {sorted(bad)[0]!r} (allowed: "
                                 f"{', '.join(sorted(allowed))})")
        if not isinstance(entry.get("id"), str):
            raise BanditlabError(f"{where}.id: expected an {what} id string")
        kwargs = entry.get("kwargs", {})
        if not isinstance(kwargs, Mapping):
            raise BanditlabError(f"{where}.kwargs: expected a table")
        label = entry.get("label")
        if label is not None and not isinstance(label, str):
            raise BanditlabError(f"{where}.label: expected a string")
        if "grid" in entry:
            for kw, combo in _expand_grid(kwargs, entry["grid"], where):
                suffix = ",".join(f"{k}={v}" for k, v in combo.items())
                if config_cls is AgentConfig:
                    out.append(AgentConfig(entry["id"], kw, label, suffix, entry=i))
                else:
                    out.append(config_cls(entry["id"], kw, f"{label or entry['id']}({suffix})"))
        elif config_cls is AgentConfig:
            out.append(AgentConfig(entry["id"], dict(kwargs), label, entry=i))
        else:
            out.append(config_cls(entry["id"], dict(kwargs), label))
    return out


@dataclass
class Experiment:
    """Environments x agents x seeds.

    Attributes:
        envs: Environment configurations.
        agents: Agent configurations.
        n_seeds: Runs per (env, agent) pair (>= 1).
        root_seed: Root entropy (>= 0).
        run_length: Optional override of every env's horizon or number of episodes.
        checkpoints: ``"default"``, an integer, or a list of rounds.
        name: A name for reports.
        imports: Modules imported before ids are resolved (module names only; importing
            runs their code).
        import_path: Directories, passed by the user, that ``imports`` may be found in
            besides installed packages.
        source: The experiment file it was read from (its directory is never searched
            for ``imports`` implicitly).
        plot: The file's ``[plot]`` table (default plot ``metric`` or regret ``kind``,
            ``logx``, ``symlog``); not part of any task's identity.
        paper: Key of the paper the experiment reproduces (:mod:`banditlab.papers`), or
            ``None``.
        claims: The file's ``[[claims]]`` (:class:`banditlab.claims.Claim`); not part of
            any task's identity.
        scale: The scale the experiment was loaded at (``"full"`` unless
            :func:`load_experiment` applied one); claims are checked at it. ``"custom"``
            when ``n_seeds`` or ``run_length`` overrides were applied: no claim is checked
            then (claims are written for the declared scales).
        cost: The file's ``[cost]`` table (measured ``rounds_per_s`` on one core and
            ``task_s`` per task; see :meth:`estimated_seconds`); not part of any task's
            identity.
    """

    envs: list[EnvConfig]
    agents: list[AgentConfig]
    n_seeds: int = 5
    root_seed: int = 0
    run_length: int | None = None
    checkpoints: Any = "default"
    name: str = "experiment"
    imports: list[str] = field(default_factory=list)
    import_path: list[str] = field(default_factory=list)
    source: str | None = None
    plot: dict[str, Any] = field(default_factory=dict)
    paper: str | None = None
    claims: list[Any] = field(default_factory=list)
    scale: str = "full"
    cost: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "experiment",
                  import_path: Sequence[str | os.PathLike] | None = None,
                  source_path: str | os.PathLike | None = None,
                  scale: str = "full") -> Experiment:
        """Build and validate an experiment from a mapping (a parsed TOML file).

        Nothing is imported before every field that needs no registry is valid.

        Args:
            data: The parsed file (at ``scale``: see :func:`apply_scale`).
            source: Name used in messages (the file name).
            import_path: Directories the user allows ``imports`` to come from.
            source_path: The file ``data`` was read from.
            scale: The scale ``data`` is at (claims are checked at it).

        Raises:
            BanditlabError: One line naming the first invalid field.
        """
        if not isinstance(data, Mapping):
            raise BanditlabError(f"{source}: expected a table")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise BanditlabError(
                f"{source}: unknown field {sorted(unknown)[0]!r} "
                f"(allowed: {', '.join(sorted(_TOP_KEYS))})"
            )
        imports = check_module_names(data.get("imports", []))
        check_scales(data)
        cost = check_cost(data)
        plot = check_plot(data)
        if scale not in (*SCALES, CUSTOM_SCALE):
            raise BanditlabError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")
        paper, claims = parse_claims(data)
        envs = _parse_entries(data.get("envs"), "envs", "env", _ENV_KEYS, EnvConfig)
        agents = _parse_entries(data.get("agents"), "agents", "agent", _AGENT_KEYS, AgentConfig)
        exp = cls(
            envs=envs,
            agents=agents,
            n_seeds=data.get("n_seeds", 5),
            root_seed=data.get("root_seed", 0),
            run_length=data.get("run_length"),
            checkpoints=data.get("checkpoints", "default"),
            name=data.get("name", source),
            imports=list(imports),
            import_path=[str(d) for d in (import_path or ())],
            source=None if source_path is None else str(source_path),
            plot=plot,
            paper=paper,
            claims=claims,
            scale=scale,
            cost=cost,
        )
        exp.validate()
        return exp

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check every field and every id/kwarg without running anything.

        Fields that need no registry are checked first, then ``imports`` are imported
        (:func:`import_modules`), then ids, kwargs and bindings are checked.

        Raises:
            BanditlabError: One line naming the first invalid field.
        """
        from banditlab.registry import agent_spec, check_kwargs, env_spec, load_entry_point

        self._validate_fields()
        self.run_imports()
        for i, e in enumerate(self.envs):
            spec = env_spec(e.id)
            cls = load_entry_point(spec.entry_point) if isinstance(spec.entry_point, str) else (
                spec.entry_point)
            if inspect.isclass(cls) and not hasattr(cls, "run_kind"):
                raise BanditlabError(_plain_gym_message(f"envs[{i}].id", e.id))
            check_kwargs(cls.__init__ if inspect.isclass(cls) else cls, e.kwargs,
                         f"envs[{i}].kwargs ({e.id})")
            try:
                digest(e.as_dict())
            except TypeError as exc:
                raise BanditlabError(f"envs[{i}].kwargs: {exc}") from None
        for i, a in enumerate(self.agents):
            if a.id.startswith("oracle:"):
                if a.kwargs:
                    raise BanditlabError(f"agents[{i}].kwargs: oracle agents take no kwargs")
                continue
            spec = agent_spec(a.id)
            cls = load_entry_point(spec.entry_point)
            check_kwargs(cls.__init__, a.kwargs, f"agents[{i}].kwargs ({a.id})")
        # Build every (env, agent) once: env kwargs, bindings and hyperparameters are
        # checked now, before any task runs (and oracle policies give their labels).
        checkpoints = {}
        oracle_labels: dict[int, dict[str, str]] = {}
        for e in self.envs:
            env = self.make_env(e)
            checkpoints[e.display] = validate_checkpoints(self.checkpoints, int(env.run_length))
            for i, a in enumerate(self.agents):
                agent = self.make_agent(a, env, where=f"agents[{i}]")
                if a.id.startswith("oracle:") and a.derived is None:
                    oracle_labels.setdefault(i, {}).setdefault(agent.label(), e.display)
                try:
                    agent._validate_params(env.action_space, env.observation_space)
                except BanditlabError as exc:
                    raise BanditlabError(f"agents[{i}] ({a.id}) on {e.id}: {exc}") from None
            env.close()
        self.resolve_labels(oracle_labels)
        check_claim_references(self, checkpoints)

    def resolve_labels(self, oracle_labels: Mapping[int, Mapping[str, str]] | None = None
                       ) -> None:
        """Derive every agent's label from the agent itself; check the labels written by users.

        The label of an ``[[agents]]`` entry is :meth:`banditlab.core.Agent.label` of the
        agent built from the entry's id and kwargs (``__init__`` only stores them, so
        ``"@known:<name>"`` references stay strings); for ``oracle:<name>`` it is the label
        of the benchmark policy every env's oracle maps the name to (they must agree). A
        label written in the entry must be the derived label or start with it followed by
        a space (``"UCRL2 (delta=0.1)"``). Grid points add ``" (<param>=<value>,...)"``.
        Labels must be distinct. Idempotent; :meth:`validate` and :meth:`tasks` call it.

        Args:
            oracle_labels: For ``oracle:`` entries already built on every env (by
                :meth:`validate`): entry position to ``{label: env label}``; the envs are
                built here otherwise.

        Raises:
            BanditlabError: One line for an agent class without ``display_name``, a
                written label that does not start with the derived one, oracle policies
                whose labels differ across envs, or two agents with the same label.
        """
        if all(a.derived is not None for a in self.agents):
            return
        from banditlab.registry import make_agent

        oracle_labels = {i: dict(v) for i, v in (oracle_labels or {}).items()}
        pending = [i for i, a in enumerate(self.agents) if a.derived is None
                   and a.id.startswith("oracle:") and i not in oracle_labels]
        if pending:
            for e in self.envs:
                env = self.make_env(e)
                try:
                    for i in pending:
                        agent = self.make_agent(self.agents[i], env, where=self._where(i))
                        oracle_labels.setdefault(i, {}).setdefault(agent.label(), e.display)
                finally:
                    env.close()
        resolved = []
        for i, a in enumerate(self.agents):
            where = self._where(i)
            if a.derived is not None:
                resolved.append(a)
                continue
            if a.id.startswith("oracle:"):
                labels = oracle_labels[i]
                if len(labels) > 1:
                    shown = "; ".join(f"{lab!r} on {env}" for lab, env in labels.items())
                    raise BanditlabError(
                        f"{where}.id: {a.id!r} names different policies on the experiment's "
                        f"envs ({shown}); split the experiment by env")
                derived = next(iter(labels))
            else:
                try:
                    agent = make_agent(a.id, **dict(a.kwargs))
                except BanditlabError:
                    raise
                except Exception as exc:  # noqa: BLE001 - one line naming the entry
                    raise BanditlabError(f"{where}: building {a.id!r} to derive its label "
                                         f"raised {type(exc).__name__}: {exc}") from None
                derived = agent.label()
            if a.label is not None and not (a.label == derived
                                            or a.label.startswith(derived + " ")):
                hint = (" followed by a space" if a.label.startswith(derived) else "")
                raise BanditlabError(f"{where}.label: {a.label!r} must start with the agent's "
                                     f"label {derived!r}{hint}")
            resolved.append(dataclasses.replace(a, derived=derived))
        labels = [a.display for a in resolved]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            first = [i for i, x in enumerate(labels) if x == dup[0]]
            same = [(resolved[i].id, digest(dict(resolved[i].kwargs))) for i in first[:2]]
            if same[0] == same[1]:
                raise BanditlabError(f"agents: duplicate agent {dup[0]!r} ({self._where(first[0])} "
                                     f"and {self._where(first[1])})")
            raise BanditlabError(
                f"agents: {self._where(first[0])} and {self._where(first[1])} share the label "
                f"{dup[0]!r}; give them distinct labels starting with it, e.g. "
                f"'{dup[0]} (<what differs>)'")
        self.agents = resolved

    def _where(self, i: int) -> str:
        """``agents[<entry>]`` of the expanded agent ``i`` (its ``[[agents]]`` position)."""
        a = self.agents[i]
        return f"agents[{a.entry if a.entry is not None else i}]"

    def run_imports(self) -> None:
        """Import ``imports`` with :func:`import_modules`.

        The experiment file's directory is searched only when it is in ``import_path``.
        """
        blocked = [] if self.source is None else [str(Path(self.source).resolve().parent)]
        import_modules(self.imports, self.import_path, blocked=blocked)

    def _validate_fields(self) -> None:
        """Every check that needs neither the registry nor ``imports``."""
        if not isinstance(self.name, str):
            raise BanditlabError("name: expected a string")
        if not _is_int(self.n_seeds) or self.n_seeds < 1:
            raise BanditlabError(f"n_seeds: expected an integer >= 1, got {self.n_seeds!r}")
        if not _is_int(self.root_seed) or self.root_seed < 0:
            raise BanditlabError(f"root_seed: expected an integer >= 0, got {self.root_seed!r}")
        if self.run_length is not None and (not _is_int(self.run_length) or self.run_length < 1):
            raise BanditlabError(f"run_length: expected an integer >= 1, got {self.run_length!r}")
        validate_checkpoints(self.checkpoints, self.run_length or 10**9)
        env_labels = [e.display for e in self.envs]
        if len(set(env_labels)) < len(env_labels):
            dup_env = next(x for x in env_labels if env_labels.count(x) > 1)
            raise BanditlabError(
                f"envs: two envs share the label {dup_env!r}; give them distinct labels"
            )
        for i, a in enumerate(self.agents):
            if not isinstance(a, AgentConfig):
                raise BanditlabError(f"agents[{i}]: expected an AgentConfig, got {a!r}")
            if a.label is not None and (not isinstance(a.label, str) or not a.label.strip()):
                raise BanditlabError(f"agents[{i}].label: expected a non-empty string")
        check_module_names(self.imports)
        if not isinstance(self.import_path, (list, tuple)):
            raise BanditlabError("import_path: expected a list of directories")
        for i, a in enumerate(self.agents):
            for k, v in a.kwargs.items():
                if isinstance(v, str) and v.startswith("@") and not (
                    v == "@run_length" or v.startswith("@known:")
                ):
                    raise BanditlabError(
                        f"agents[{i}].kwargs.{k}: {v!r} is not a reference; use "
                        "'@known:<name>' or '@run_length'"
                    )

    # ------------------------------------------------------------------ building
    def env_kwargs(self, e: EnvConfig) -> dict[str, Any]:
        """Constructor kwargs of ``e`` with the experiment's run length applied."""
        kwargs = dict(e.kwargs)
        if self.run_length is not None:
            from banditlab.registry import env_spec, load_entry_point

            spec = env_spec(e.id)
            cls = load_entry_point(spec.entry_point) if isinstance(spec.entry_point, str) else (
                spec.entry_point)
            params = inspect.signature(cls).parameters
            for name in ("horizon", "n_episodes"):
                if name in params:
                    kwargs[name] = self.run_length
                    break
            else:
                raise BanditlabError(
                    f"run_length: env {e.id!r} has no 'horizon' or 'n_episodes' argument"
                )
        return kwargs

    def make_env(self, e: EnvConfig):
        """Build the (unwrapped) env of ``e``."""
        from banditlab.registry import make_env

        try:
            env = make_env(e.id, **self.env_kwargs(e))
        except BanditlabError:
            raise
        except (TypeError, ValueError) as exc:
            raise BanditlabError(f"env {e.id!r} kwargs: {exc}") from None
        require_banditlab_env(env, e.id)
        return env

    @staticmethod
    def bind(kwargs: Mapping[str, Any], env, where: str = "agent") -> dict[str, Any]:
        """Replace ``"@known:<name>"`` and ``"@run_length"`` by the env's values."""
        out = {}
        known = getattr(env, "known_constants", {}) or {}
        for k, v in kwargs.items():
            if isinstance(v, str) and v == "@run_length":
                v = int(env.run_length)
            elif isinstance(v, str) and v.startswith("@known:"):
                name = v.split(":", 1)[1]
                if name not in known:
                    raise BanditlabError(
                        f"{where}.kwargs.{k}: env has no known constant {name!r} "
                        f"(known: {', '.join(sorted(known)) or 'none'})"
                    )
                v = known[name]
                if isinstance(v, np.ndarray):
                    v = v.tolist()
            out[k] = v
        return out

    @staticmethod
    def make_agent(a: AgentConfig, env, where: str = "agent"):
        """Build the agent of ``a`` for ``env`` (binding references, resolving ``oracle:``)."""
        from banditlab.registry import make_agent, make_benchmark_policy

        if a.id.startswith("oracle:"):
            return make_benchmark_policy(env.oracle, a.id.split(":", 1)[1], where)
        return make_agent(a.id, **Experiment.bind(a.kwargs, env, where))

    def estimated_seconds(self) -> float | None:
        """One core's time for every task, from :attr:`cost`, or ``None`` when unknown.

        ``n_tasks * task_s + n_tasks * run_length / rounds_per_s`` (compilation excluded),
        the estimate ``banditlab list experiments`` prints. ``None`` without a
        ``rounds_per_s`` or without an explicit ``run_length`` (each env's own horizon
        would have to be built to know it).
        """
        rate = self.cost.get("rounds_per_s")
        if rate is None or self.run_length is None:
            return None
        n_tasks = len(self.envs) * len(self.agents) * self.n_seeds
        return n_tasks * (float(self.cost.get("task_s", 0.0)) + self.run_length / float(rate))

    def tasks(self) -> list[Task]:
        """Every task with its bound hyperparameters, seeds and task id."""
        self.resolve_labels()
        out = []
        for e in self.envs:
            env = self.make_env(e)
            env_cfg = EnvConfig(e.id, self.env_kwargs(e), e.label)
            run_length = int(env.run_length)
            cps = tuple(int(x) for x in validate_checkpoints(self.checkpoints, run_length))
            for a in self.agents:
                params = {} if a.id.startswith("oracle:") else self.bind(a.kwargs, env)
                agent_cfg = {"id": a.id, "kwargs": params}
                # task_seeds(root_seed, env config, agent config, i) and the digest of
                # the task dict with "run_index": i, with the configs digested once.
                env_d, agent_d = digest32(env_cfg.as_dict()), digest32(agent_cfg)
                ids = digest_series(
                    {
                        "env": env_cfg.as_dict(),
                        "agent": agent_cfg,
                        "label": a.display,
                        "env_label": e.display,
                        "root_seed": self.root_seed,
                        "run_length": run_length,
                        "checkpoints": list(cps),
                        "schema_version": SCHEMA_VERSION,
                    },
                    "run_index", range(self.n_seeds),
                )
                for i in range(self.n_seeds):
                    task_id = ids[i][:32]
                    out.append(
                        Task(env_cfg, a, params, i, self.root_seed, run_length, cps, task_id,
                             TaskSeeds(self.root_seed, env_d, agent_d, i), tuple(self.imports),
                             tuple(str(Path(d).resolve()) for d in self.import_path))
                    )
            env.close()
        return out


# ---------------------------------------------------------------------- scales, plot, cost
#: Scale names of ``banditlab run --scale``; ``full`` is the file as written.
SCALES = ("smoke", "reduced", "full")
#: :attr:`Experiment.scale` after ``n_seeds`` / ``run_length`` overrides (no claim applies).
CUSTOM_SCALE = "custom"
_SCALE_KEYS = {"n_seeds", "run_length", "checkpoints", "envs", "agents", "grid"}
_PLOT_KEYS = {"metric", "kind", "logx", "symlog"}
_COST_KEYS = {"rounds_per_s", "task_s"}


def _entry_name(entry: Any) -> Any:
    return entry.get("label", entry.get("id")) if isinstance(entry, Mapping) else None


def _select_entries(sel: Any, entries: Any, where: str) -> list[int]:
    """Positions of the ``[[envs]]``/``[[agents]]`` entries a scale keeps (by position or label)."""
    if not isinstance(sel, list) or not sel:
        raise BanditlabError(f"{where}: expected a non-empty list of entry positions (from 0) "
                             "or labels")
    entries = entries if isinstance(entries, list) else []
    keep = []
    for j, s in enumerate(sel):
        if _is_int(s):
            if not 0 <= s < len(entries):
                raise BanditlabError(f"{where}[{j}]: position {s} is outside 0..{len(entries) - 1}")
            keep.append(int(s))
        elif isinstance(s, str):
            hits = [i for i, e in enumerate(entries) if _entry_name(e) == s]
            if len(hits) != 1:
                names = ", ".join(repr(_entry_name(e)) for e in entries)
                raise BanditlabError(
                    f"{where}[{j}]: {s!r} matches {len(hits)} entries "
                    + ("(use its position)" if hits else f"(labels or ids: {names})"))
            keep.append(hits[0])
        else:
            raise BanditlabError(f"{where}[{j}]: expected a position or a label, got {s!r}")
    return sorted(set(keep))


def check_scales(data: Mapping[str, Any]) -> dict[str, dict]:
    """Check the ``[scales]`` table of a parsed experiment file (nothing is imported).

    ``[scales.smoke]`` and ``[scales.reduced]`` may set ``n_seeds``, ``run_length`` and
    ``checkpoints`` (replacing the file's values), ``envs`` and ``agents`` (the entries
    kept: positions from 0 or labels/ids) and ``grid`` (new values for grid axes of the
    kept entries). ``full`` is the file as written, so ``[scales.full]`` must be empty.

    Returns:
        The scales by name.

    Raises:
        BanditlabError: One line naming the first invalid field.
    """
    scales = data.get("scales", {})
    if not isinstance(scales, Mapping):
        raise BanditlabError("scales: expected a table of [scales.smoke] / [scales.reduced] tables")
    for name, table in scales.items():
        where = f"scales.{name}"
        if name not in SCALES:
            raise BanditlabError(f"scales: unknown scale {name!r} (allowed: {', '.join(SCALES)})")
        if not isinstance(table, Mapping):
            raise BanditlabError(f"{where}: expected a table")
        if name == "full" and table:
            raise BanditlabError(f"{where}: the full scale is the file as written; leave it empty")
        bad = set(table) - _SCALE_KEYS
        if bad:
            raise BanditlabError(f"{where}: unknown field {sorted(bad)[0]!r} "
                                 f"(allowed: {', '.join(sorted(_SCALE_KEYS))})")
        for key in ("n_seeds", "run_length"):
            if key in table and (not _is_int(table[key]) or table[key] < 1):
                raise BanditlabError(f"{where}.{key}: expected an integer >= 1, "
                                     f"got {table[key]!r}")
        if "checkpoints" in table:
            try:
                validate_checkpoints(table["checkpoints"], table.get("run_length", 10**9))
            except BanditlabError as exc:
                raise BanditlabError(f"{where}.{exc}") from None
        kept = {}
        for key in ("envs", "agents"):
            entries = data.get(key) if isinstance(data.get(key), list) else []
            idx = (_select_entries(table[key], entries, f"{where}.{key}") if key in table
                   else range(len(entries)))
            kept[key] = [entries[i] for i in idx]
        grid = table.get("grid", {})
        if not isinstance(grid, Mapping):
            raise BanditlabError(f"{where}.grid: expected a table of lists")
        for axis, values in grid.items():
            if not isinstance(values, list) or not values:
                raise BanditlabError(f"{where}.grid.{axis}: expected a non-empty list of values")
            if not any(isinstance(e, Mapping) and isinstance(e.get("grid"), Mapping)
                       and axis in e["grid"] for e in kept["envs"] + kept["agents"]):
                raise BanditlabError(f"{where}.grid.{axis}: no kept [[envs]] or [[agents]] "
                                     f"entry sweeps {axis!r}")
    return dict(scales)


def check_plot(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the ``[plot]`` table of a parsed experiment file.

    It names the default plot ``metric`` (a metric name) or ``kind`` (a regret kind,
    plotted as ``pseudo_regret/<kind>``), and ``logx`` / ``symlog``.
    """
    plot = data.get("plot", {})
    if not isinstance(plot, Mapping):
        raise BanditlabError("plot: expected a table (metric or kind, logx, symlog)")
    bad = set(plot) - _PLOT_KEYS
    if bad:
        raise BanditlabError(f"plot: unknown field {sorted(bad)[0]!r} "
                             f"(allowed: {', '.join(sorted(_PLOT_KEYS))})")
    if "metric" in plot and "kind" in plot:
        raise BanditlabError("plot: give metric or kind, not both")
    for key in ("metric", "kind"):
        if key in plot and (not isinstance(plot[key], str) or not plot[key]):
            raise BanditlabError(f"plot.{key}: expected a non-empty string")
    for key in ("logx", "symlog"):
        if key in plot and not isinstance(plot[key], bool):
            raise BanditlabError(f"plot.{key}: expected true or false")
    return dict(plot)


def check_cost(data: Mapping[str, Any]) -> dict[str, float]:
    """Check the ``[cost]`` table of a parsed experiment file.

    It holds the measured ``rounds_per_s`` (one core) and ``task_s`` (fixed seconds per
    task) that ``banditlab list experiments`` uses to estimate run times.
    """
    cost = data.get("cost", {})
    if not isinstance(cost, Mapping) or set(cost) - _COST_KEYS:
        raise BanditlabError(f"cost: expected a table with {', '.join(sorted(_COST_KEYS))}")
    for key, low in (("rounds_per_s", 0.0), ("task_s", -1.0)):
        v = cost.get(key, 1.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > low:
            raise BanditlabError(f"cost.{key}: expected a number {'> 0' if low == 0 else '>= 0'}"
                                 f", got {v!r}")
    return dict(cost)


def apply_scale(data: Mapping[str, Any], scale: str = "full", *, n_seeds: int | None = None,
                run_length: int | None = None, source: str = "experiment") -> dict[str, Any]:
    """The parsed file at a scale, with optional ``n_seeds`` / ``run_length`` overrides.

    Pure data: nothing is imported or built. ``full`` is the file as written.

    Raises:
        BanditlabError: One line for an unknown or undeclared scale or a bad scale field.
    """
    import copy

    if scale not in SCALES:
        raise BanditlabError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")
    scales = check_scales(data)
    out = copy.deepcopy(dict(data))
    if scale != "full":
        if scale not in scales:
            declared = ", ".join(s for s in scales if s != "full") or "none"
            raise BanditlabError(f"scale: {source} declares no {scale!r} scale (declared: "
                                 f"{declared}; 'full' is the file as written)")
        table = scales[scale]
        for key in ("n_seeds", "run_length", "checkpoints"):
            if key in table:
                out[key] = table[key]
        for key in ("envs", "agents"):
            if key in table:
                idx = _select_entries(table[key], out.get(key), f"scales.{scale}.{key}")
                out[key] = [out[key][i] for i in idx]
        for key in ("envs", "agents"):
            for entry in out.get(key) or []:
                if isinstance(entry, dict) and isinstance(entry.get("grid"), dict):
                    for axis, values in table.get("grid", {}).items():
                        if axis in entry["grid"]:
                            entry["grid"][axis] = list(values)
    if scale != "full":
        out.pop("scales")  # checked above against the file as written
    if n_seeds is not None:
        out["n_seeds"] = n_seeds
    if run_length is not None:
        out["run_length"] = run_length
    return out


def find_experiment(name: str | os.PathLike) -> Path:
    """The experiment file ``name``: an existing file, else a shipped experiment's name.

    Raises:
        BanditlabError: One line listing the shipped experiments.
    """
    p = Path(name)
    if p.is_file():
        return p
    from banditlab.papers import shipped_experiments

    shipped = shipped_experiments()
    for path in shipped:
        if path.stem == str(name):
            return path
    raise BanditlabError(
        f"EXPERIMENT: {str(name)!r} is neither a file nor a bundled experiment "
        f"(bundled: {', '.join(x.stem for x in shipped)})"
    )


def load_experiment(path: str | Path, *,
                    import_path: Sequence[str | os.PathLike] | None = None,
                    scale: str = "full", n_seeds: int | None = None,
                    run_length: int | None = None) -> Experiment:
    """Read and validate an experiment TOML file.

    Args:
        path: The TOML file.
        import_path: Directories the file's ``imports`` may be found in besides installed
            packages (``--import-path``). The file's own directory is not searched unless
            it is listed here: no ``.py`` file next to the TOML runs implicitly.
        scale: ``"smoke"``, ``"reduced"`` (as the file's ``[scales]`` table defines them)
            or ``"full"`` (the file as written); see :func:`apply_scale`.
        n_seeds: Override of ``n_seeds`` (after the scale).
        run_length: Override of ``run_length`` (after the scale).

    Raises:
        BanditlabError: Missing file, malformed TOML (with its line), or an invalid field.
    """
    p = Path(path)
    if not p.is_file():
        raise BanditlabError(f"experiment file: {str(p)!r} does not exist")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BanditlabError(f"experiment file {p.name}: malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise BanditlabError(f"experiment file {p.name}: not UTF-8 text") from None
    data.setdefault("name", p.stem)
    data = apply_scale(data, scale, n_seeds=n_seeds, run_length=run_length, source=p.name)
    custom = n_seeds is not None or run_length is not None
    return Experiment.from_dict(data, source=p.name, import_path=import_path, source_path=p,
                                scale=CUSTOM_SCALE if custom else scale)
