"""Experiments as data: a TOML file and the equivalent Python API.

An experiment is environments x agents x seeds, with an optional run length
and checkpoint grid. Example (``banditlab/benchmarks/quickstart.toml``)::

    name = "quickstart"
    n_seeds = 8
    root_seed = 0
    run_length = 2000           # optional: sets each env's horizon / n_episodes
    checkpoints = "default"     # or an integer n (n evenly spaced) or a list of rounds
    imports = []                # modules to import first (third-party registration)

    [[envs]]
    id = "banditlab/Bernoulli10-v0"
    kwargs = {}

    [[agents]]
    id = "UCB1-v0"
    label = "UCB1"              # optional display name
    kwargs = { alpha = 2.0 }    # "@known:<name>" and "@run_length" are bound per env
    grid = { alpha = [0.5, 1.0, 2.0] }   # optional sweep: one agent per value

Everything is validated before anything runs; each error is one line naming
the field and what is allowed.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from banditlab.core import BanditlabError
from banditlab.results import SCHEMA_VERSION
from banditlab.seeding import digest, task_seeds

__all__ = [
    "EnvConfig",
    "AgentConfig",
    "Experiment",
    "Task",
    "load_experiment",
    "default_checkpoints",
    "validate_checkpoints",
]

_TOP_KEYS = {"name", "n_seeds", "root_seed", "run_length", "checkpoints", "imports", "envs",
             "agents", "description"}
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


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


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
    """An agent of an experiment: a registered id (or ``oracle:<name>``) and hyperparameters."""

    id: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def display(self) -> str:
        """The label, or the id with its non-default kwargs."""
        return self.label or self.id


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
    env_seed: int
    agent_seed: int
    spawn_keys: dict[str, list[int]]
    imports: tuple[str, ...] = ()

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
                out.append(config_cls(entry["id"], kw, f"{label or entry['id']}({suffix})"))
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
        imports: Modules imported before ids are resolved.
    """

    envs: list[EnvConfig]
    agents: list[AgentConfig]
    n_seeds: int = 5
    root_seed: int = 0
    run_length: int | None = None
    checkpoints: Any = "default"
    name: str = "experiment"
    imports: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "experiment") -> Experiment:
        """Build and validate an experiment from a mapping (a parsed TOML file).

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
        imports = data.get("imports", [])
        if not isinstance(imports, list) or not all(isinstance(m, str) for m in imports):
            raise BanditlabError("imports: expected a list of module names")
        for module in imports:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise BanditlabError(f"imports: cannot import {module!r} ({exc})") from None
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
        )
        exp.validate()
        return exp

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check every field and every id/kwarg without running anything.

        Raises:
            BanditlabError: One line naming the first invalid field.
        """
        from banditlab.registry import agent_spec, check_kwargs, env_spec, load_entry_point

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
        labels = [a.display for a in self.agents]
        dup = {x for x in labels if labels.count(x) > 1}
        if dup and len({(a.id, digest(dict(a.kwargs))) for a in self.agents}) < len(self.agents):
            raise BanditlabError(f"agents: duplicate agent {sorted(dup)[0]!r}")
        if dup:
            raise BanditlabError(
                f"agents: two agents share the label {sorted(dup)[0]!r}; give them distinct labels"
            )
        for i, e in enumerate(self.envs):
            spec = env_spec(e.id)
            cls = load_entry_point(spec.entry_point) if isinstance(spec.entry_point, str) else (
                spec.entry_point)
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
            for k, v in a.kwargs.items():
                if isinstance(v, str) and v.startswith("@") and not (
                    v == "@run_length" or v.startswith("@known:")
                ):
                    raise BanditlabError(
                        f"agents[{i}].kwargs.{k}: {v!r} is not a reference; use "
                        "'@known:<name>' or '@run_length'"
                    )
        # Build every (env, agent) once: env kwargs, bindings and hyperparameters are
        # checked now, before any task runs.
        for e in self.envs:
            env = self.make_env(e)
            for i, a in enumerate(self.agents):
                agent = self.make_agent(a, env, where=f"agents[{i}]")
                if hasattr(agent, "_validate_params"):
                    try:
                        agent._validate_params(env.action_space, env.observation_space)
                    except BanditlabError as exc:
                        raise BanditlabError(f"agents[{i}] ({a.id}) on {e.id}: {exc}") from None
            env.close()

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
            return make_env(e.id, **self.env_kwargs(e))
        except BanditlabError:
            raise
        except (TypeError, ValueError) as exc:
            raise BanditlabError(f"env {e.id!r} kwargs: {exc}") from None

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

    def tasks(self) -> list[Task]:
        """Every task with its bound hyperparameters, seeds and task id."""
        out = []
        for e in self.envs:
            env = self.make_env(e)
            env_cfg = EnvConfig(e.id, self.env_kwargs(e), e.label)
            run_length = int(env.run_length)
            cps = tuple(int(x) for x in validate_checkpoints(self.checkpoints, run_length))
            for a in self.agents:
                params = {} if a.id.startswith("oracle:") else self.bind(a.kwargs, env)
                agent_cfg = {"id": a.id, "kwargs": params}
                for i in range(self.n_seeds):
                    env_seed, agent_seed, keys = task_seeds(
                        self.root_seed, env_cfg.as_dict(), agent_cfg, i
                    )
                    task_id = digest(
                        {
                            "env": env_cfg.as_dict(),
                            "agent": agent_cfg,
                            "label": a.display,
                            "env_label": e.display,
                            "run_index": i,
                            "root_seed": self.root_seed,
                            "run_length": run_length,
                            "checkpoints": list(cps),
                            "schema_version": SCHEMA_VERSION,
                        }
                    )[:32]
                    out.append(
                        Task(env_cfg, a, params, i, self.root_seed, run_length, cps, task_id,
                             env_seed, agent_seed, keys, tuple(self.imports))
                    )
            env.close()
        return out


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file.

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
    return Experiment.from_dict(data, source=p.name)
