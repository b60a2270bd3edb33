"""The harness: run one agent on one env, or a whole experiment, and record regret.

Two execution paths produce identical trajectories for the same seeds:

* the **Python (Gymnasium) loop**, the reference, for any env and any agent;
* the **fused Numba loop** (:mod:`banditlab._fused`), chosen by ``backend="auto"``
  when the env is a :class:`~banditlab.core.KernelEnv` (continuing) and the agent a
  :class:`~banditlab.core.KernelAgent`.

Metrics (all cumulative up to round ``t``, recorded at checkpoints):

* ``reward`` and ``expected_reward``;
* ``regret/<kind>`` = ``C_realised(t) - reward`` and ``pseudo_regret/<kind>`` =
  ``C_expected(t) - expected_reward`` for every non-paired kind of the env's oracle.
  For the primary per-step kind both comparators are the running sum of
  ``info["optimal_expected_reward"]``; other kinds come from ``oracle.comparator``
  (Python loop) or ``EnvKernel.checkpoint`` (fused loop);
* every name in the env's ``extra_metrics`` (summed from ``info``);
* ``agent/<name>`` for every entry of the agent's optional ``diagnostics()``.

For episodic envs a round is an episode: rewards are summed per episode and, for
agents tagged ``exposes_policy`` on envs whose oracle has
``policy_expected_reward``, the expected episode reward is computed exactly from
the agent's policy table at the start of each episode.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from banditlab.core import (
    INFO_EXPECTED_REWARD,
    INFO_OPTIMAL_EXPECTED_REWARD,
    Agent,
    BanditlabError,
    KernelAgent,
    KernelEnv,
)
from banditlab.experiment import (
    AgentConfig,
    EnvConfig,
    Experiment,
    Task,
    validate_checkpoints,
)
from banditlab.results import ResultStore, RunResult, load_results, package_versions

__all__ = ["run", "run_task", "run_experiment", "run_many", "RunSummary", "BACKENDS"]

BACKENDS = ("auto", "kernel", "python")


# --------------------------------------------------------------------------- helpers
def _kinds(env) -> list[str]:
    oracle = env.oracle
    return [k for k, spec in oracle.regret_kinds.items() if not spec.paired]


def _can_fuse(env, agent) -> bool:
    return (
        isinstance(env, KernelEnv)
        and env.run_kind == "continuing"
        and isinstance(agent, KernelAgent)
        and getattr(env, "kernel", None) is not None
    )


def _resolve_env(env: Any):
    from banditlab.registry import make_env

    if isinstance(env, str):
        return make_env(env)
    if isinstance(env, tuple) and len(env) == 2 and isinstance(env[0], str):
        return make_env(env[0], **dict(env[1]))
    return getattr(env, "unwrapped", env)


def _resolve_agent(agent: Any, env) -> Agent:
    from banditlab.registry import make_agent

    if isinstance(agent, str):
        if agent.startswith("oracle:"):
            return Experiment.make_agent(AgentConfig(agent), env)
        return make_agent(agent)
    if isinstance(agent, tuple) and len(agent) == 2 and isinstance(agent[0], str):
        return make_agent(agent[0], **dict(agent[1]))
    if not isinstance(agent, Agent):
        raise BanditlabError(f"agent: expected an Agent or an agent id, got {type(agent).__name__}")
    return agent


def _derive_seeds(seed: int) -> tuple[int, int]:
    ss = np.random.SeedSequence(seed)
    env_ss, agent_ss = ss.spawn(2)
    return (int(env_ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)),
            int(agent_ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))


class _Recorder:
    """Collects cumulative metrics at checkpoints (memory O(checkpoints))."""

    def __init__(self, checkpoints: np.ndarray):
        self.checkpoints = checkpoints
        self.rows: dict[str, list[float]] = {}

    def record(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.rows.setdefault(k, []).append(float(v))

    def curves(self) -> dict[str, np.ndarray]:
        n = self.checkpoints.shape[0]
        out = {}
        for k, v in self.rows.items():
            if len(v) != n:
                raise RuntimeError(f"metric {k!r} recorded {len(v)} times for {n} checkpoints")
            out[k] = np.asarray(v, dtype=np.float64)
        return out


def _regret_values(
    env, kinds: list[str], sums: np.ndarray, t: int, kernel_ck: np.ndarray | None
) -> dict[str, float]:
    """Regret metrics at round ``t`` from the running sums and the comparators.

    The primary kind's expected comparator is the running sum of
    ``optimal_expected_reward``. Its realised comparator comes from the comparator
    when the env provides one (a kernel env listing the kind in
    ``EnvKernel.comparator_kinds``, read from the kernel checkpoint on the fused
    path and ``oracle.comparator`` on the Python path; any other env whose
    ``oracle.comparator`` answers for it), e.g. the realised losses of the dynamic
    comparator in OCO; otherwise it equals the expected one (the running sum of
    ``mu*`` for stochastic bandits).
    """
    oracle = env.oracle
    values = {"reward": sums[0], "expected_reward": sums[1]}
    comparator_kinds = getattr(getattr(env, "kernel", None), "comparator_kinds", ())
    is_kernel_env = isinstance(env, KernelEnv)
    for kind in kinds:
        in_kernel = kind in comparator_kinds
        if kind == oracle.primary_kind:
            c_real = c_exp = sums[2]
            if kernel_ck is not None and in_kernel:
                c_real = kernel_ck[2 * comparator_kinds.index(kind)]
            elif kernel_ck is None and (in_kernel or not is_kernel_env):
                try:
                    c_real = oracle.comparator(kind, t)[0]
                except (KeyError, NotImplementedError):
                    pass
        elif kernel_ck is not None:
            if not in_kernel:
                raise RuntimeError(f"kind {kind!r} has no comparator in the env kernel")
            j = comparator_kinds.index(kind)
            c_real, c_exp = kernel_ck[2 * j], kernel_ck[2 * j + 1]
        else:
            c_real, c_exp = oracle.comparator(kind, t)
        values[f"regret/{kind}"] = float(c_real) - float(sums[0])
        values[f"pseudo_regret/{kind}"] = float(c_exp) - float(sums[1])
    return values


def _diagnostics(agent) -> dict[str, float]:
    diag = getattr(agent, "diagnostics", None)
    if diag is None:
        return {}
    return {f"agent/{k}": float(v) for k, v in diag().items()}


# --------------------------------------------------------------------------- loops
def _play_step(env, agent, obs, sums: np.ndarray, extra_sums: dict[str, float]):
    """One round of the Gymnasium loop: act, step, update, accumulate into ``sums``.

    Returns:
        ``(next_obs, terminated, truncated)``.
    """
    action = agent.act(obs)
    next_obs, reward, terminated, truncated, info = env.step(action)
    agent.update(obs, action, reward, next_obs, terminated)
    sums[0] += reward
    sums[1] += info[INFO_EXPECTED_REWARD]
    sums[2] += info.get(INFO_OPTIMAL_EXPECTED_REWARD, np.nan)
    for key in extra_sums:
        extra_sums[key] += info[key]
    return next_obs, terminated, truncated


def _record_checkpoint(env, agent, kinds, sums, t, extra_sums, rec) -> None:
    values = _regret_values(env, kinds, sums, t, None)
    values.update(extra_sums)
    values.update(_diagnostics(agent))
    rec.record(values)


def _run_python_continuing(env, agent, cps, kinds, env_seed, agent_seed, rec):
    obs, _ = env.reset(seed=env_seed)
    agent.reset(env.action_space, env.observation_space, seed=agent_seed,
                simulator=_simulator_for(env, agent))
    sums = np.zeros(3)
    extra_sums = dict.fromkeys(env.extra_metrics, 0.0)
    ci = 0
    for t in range(1, int(cps[-1]) + 1):
        obs, terminated, _ = _play_step(env, agent, obs, sums, extra_sums)
        if terminated:
            raise RuntimeError("a continuing env returned terminated=True")
        if t == cps[ci]:
            _record_checkpoint(env, agent, kinds, sums, t, extra_sums, rec)
            ci += 1


def _run_fused(env, agent, cps, kinds, env_seed, agent_seed, rec):
    from banditlab._fused import fused_run, fused_segment

    env.reset(seed=env_seed)
    agent.reset(env.action_space, env.observation_space, seed=agent_seed,
                simulator=_simulator_for(env, agent))
    ek, ak = env.kernel, agent.kernel_
    obs = ek.observe(env.state_, ek.params)
    n_cmp = 2 * len(ek.comparator_kinds)
    n_values = n_cmp + len(ek.extra_metrics)

    def record(t_cp: int, sums: np.ndarray, ck: np.ndarray) -> None:
        values = _regret_values(env, kinds, sums, t_cp, ck)
        for j, name in enumerate(ek.extra_metrics):
            values[name] = ck[n_cmp + j]
        values.update(_diagnostics(agent))
        rec.record(values)

    if getattr(agent, "diagnostics", None) is None:
        # Whole run in compiled code; checkpoint values read inside the loop.
        sums, ck = fused_run(
            ek.step, ek.observe, ek.checkpoint, ak.select, ak.update, env.state_, ek.params,
            agent.state_, ak.hparams, env.noise_rng_, agent.rng_, obs,
            np.ascontiguousarray(cps, dtype=np.int64), n_values,
        )
        for i, t_cp in enumerate(cps):
            record(int(t_cp), sums[i], ck[i])
    else:
        # Python-level agent diagnostics: run compiled segments between checkpoints.
        sums = np.zeros(3)
        t_prev = 0
        for t_cp in cps:
            t_cp = int(t_cp)
            obs = fused_segment(
                ek.step, ek.observe, ak.select, ak.update, env.state_, ek.params, agent.state_,
                ak.hparams, env.noise_rng_, agent.rng_, obs, t_prev + 1, t_cp, sums,
            )
            t_prev = t_cp
            agent.t_ = t_cp
            record(t_cp, sums, ek.checkpoint(env.state_, ek.params))
    agent.t_ = int(cps[-1])
    env.t_ = int(cps[-1])


def _run_python_episodic(env, agent, cps, kinds, env_seed, agent_seed, rec):
    oracle = env.oracle
    exact_policy = agent.get_tags().get("exposes_policy") and hasattr(
        oracle, "policy_expected_reward"
    )
    sums = np.zeros(3)
    extra_sums = dict.fromkeys(env.extra_metrics, 0.0)
    obs, _ = env.reset(seed=env_seed)
    agent.reset(env.action_space, env.observation_space, seed=agent_seed,
                simulator=_simulator_for(env, agent))
    ci = 0
    max_steps = getattr(env, "max_episode_steps", None) or 10**7
    for k in range(1, int(cps[-1]) + 1):
        if k > 1:
            obs, _ = env.reset()
        policy_value = (
            float(oracle.policy_expected_reward(agent.policy_table())) if exact_policy else None
        )
        ep = np.zeros(3)
        for _ in range(max_steps):
            obs, terminated, truncated = _play_step(env, agent, obs, ep, extra_sums)
            if terminated or truncated:
                break
        else:
            raise RuntimeError(f"episode {k} did not terminate within {max_steps} steps")
        if policy_value is not None:
            ep[1] = policy_value
        sums += ep
        if k == cps[ci]:
            _record_checkpoint(env, agent, kinds, sums, k, extra_sums, rec)
            ci += 1


def _simulator_for(env, agent):
    if agent.get_tags().get("needs_simulator"):
        sim = getattr(env, "simulator", None)
        if sim is None:
            raise BanditlabError(
                f"agent: {type(agent).__name__} needs a simulator, which "
                f"{type(env).__name__} does not provide"
            )
        return sim
    return None


# --------------------------------------------------------------------------- public API
def run(
    env: Any,
    agent: Any,
    *,
    seed: int = 0,
    run_length: int | None = None,
    checkpoints: Any = None,
    backend: str = "auto",
    env_seed: int | None = None,
    agent_seed: int | None = None,
) -> RunResult:
    """Run one agent on one environment and record its regret curves.

    Args:
        env: An env instance, a registered id, or ``(id, kwargs)``.
        agent: An :class:`~banditlab.core.Agent`, a registered id, ``(id, kwargs)``,
            or ``"oracle:<name>"``.
        seed: Seed from which the env and agent seeds are derived (two children of
            ``SeedSequence(seed)``); all agents run with the same ``seed`` face the
            same env noise.
        run_length: Rounds to run (default: the env's ``run_length``; must not exceed it).
        checkpoints: ``None``/``"default"``, an integer count, or a list of rounds.
        backend: ``"auto"`` (fused when possible), ``"kernel"`` (fused, or an error)
            or ``"python"``.
        env_seed: Explicit env seed (overrides the one derived from ``seed``).
        agent_seed: Explicit agent seed (overrides the one derived from ``seed``).

    Returns:
        A :class:`~banditlab.results.RunResult` (its ``task_id`` is empty).

    Raises:
        BanditlabError: Invalid backend, run length, checkpoints or seeds.
    """
    if backend not in BACKENDS:
        raise BanditlabError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BanditlabError(f"seed: expected an integer >= 0, got {seed!r}")
    env = _resolve_env(env)
    agent = _resolve_agent(agent, env)
    env_run_length = int(env.run_length)
    if run_length is None:
        run_length = env_run_length
    if isinstance(run_length, bool) or not isinstance(run_length, (int, np.integer)) or not (
        1 <= run_length <= env_run_length
    ):
        raise BanditlabError(
            f"run_length: expected an integer in [1, {env_run_length}] (the env's run_length), "
            f"got {run_length!r}"
        )
    cps = validate_checkpoints(checkpoints, int(run_length))
    derived_env, derived_agent = _derive_seeds(int(seed))
    env_seed = derived_env if env_seed is None else env_seed
    agent_seed = derived_agent if agent_seed is None else agent_seed
    fusable = _can_fuse(env, agent)
    if backend == "kernel" and not fusable:
        raise BanditlabError(
            "backend: 'kernel' needs a continuing KernelEnv and a KernelAgent; "
            f"got {type(env).__name__} and {type(agent).__name__}"
        )
    use_kernel = fusable and backend != "python"
    kinds = _kinds(env)
    rec = _Recorder(cps)
    start = time.perf_counter()
    if use_kernel:
        _run_fused(env, agent, cps, kinds, env_seed, agent_seed, rec)
    elif env.run_kind == "episodic":
        _run_python_episodic(env, agent, cps, kinds, env_seed, agent_seed, rec)
    else:
        _run_python_continuing(env, agent, cps, kinds, env_seed, agent_seed, rec)
    wall = time.perf_counter() - start
    totals = {}
    if hasattr(env.oracle, "run_totals"):
        totals = {k: float(v) for k, v in env.oracle.run_totals().items()
                  if isinstance(v, (int, float, np.integer, np.floating))
                  and not isinstance(v, bool)}
    env_id = env.spec.id if getattr(env, "spec", None) is not None else type(env).__name__
    agent_id = getattr(agent, "registry_id", type(agent).__name__)
    return RunResult(
        task_id="",
        run_id=f"{env_id}__{agent_id}__0",
        env_id=env_id,
        env_kwargs={},
        env_label=env_id,
        agent_id=agent_id,
        agent_label=agent_id,
        agent_params=_jsonable(agent.get_params()),
        seed_index=0,
        root_seed=int(seed),
        spawn_keys={},
        env_seed=int(env_seed),
        agent_seed=int(agent_seed),
        run_kind=env.run_kind,
        run_length=int(run_length),
        t=cps,
        curves=rec.curves(),
        backend="kernel" if use_kernel else "python",
        wall_time_s=wall,
        versions=package_versions(),
        totals=totals,
    )


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, (np.integer, np.floating)):
            v = v.item()
        out[k] = v
    return out


def run_task(task: Task, backend: str = "auto") -> RunResult:
    """Run one task of an experiment (picklable; used by every parallel backend)."""
    from banditlab.registry import make_env

    env = make_env(task.env.id, **dict(task.env.kwargs))
    if task.agent.id.startswith("oracle:"):
        agent = Experiment.make_agent(task.agent, env)
    else:
        from banditlab.registry import make_agent

        agent = make_agent(task.agent.id, **task.agent_params)
    res = run(
        env, agent, run_length=task.run_length, checkpoints=list(task.checkpoints),
        backend=backend, env_seed=task.env_seed, agent_seed=task.agent_seed,
    )
    env.close()
    return RunResult(
        task_id=task.task_id,
        run_id=task.run_id,
        env_id=task.env.id,
        env_kwargs=dict(task.env.kwargs),
        env_label=task.env.display,
        agent_id=task.agent.id,
        agent_label=task.agent.display,
        agent_params=_jsonable(task.agent_params),
        seed_index=task.run_index,
        root_seed=task.root_seed,
        spawn_keys=task.spawn_keys,
        env_seed=task.env_seed,
        agent_seed=task.agent_seed,
        run_kind=res.run_kind,
        run_length=res.run_length,
        t=res.t,
        curves=res.curves,
        backend=res.backend,
        wall_time_s=res.wall_time_s,
        versions=res.versions,
        totals=res.totals,
    )


def _run_unit(tasks: Sequence[Task], backend: str) -> list[tuple[str, Any]]:
    """Run a work unit (tasks of one (env, agent) pair) in one process.

    Returns:
        ``("ok", RunResult)`` or ``("error", (task, message, traceback))`` per task.
    """
    import importlib

    out: list[tuple[str, Any]] = []
    for module in dict.fromkeys(m for task in tasks for m in task.imports):
        importlib.import_module(module)  # third-party registrations, in every worker process
    for task in tasks:
        try:
            out.append(("ok", run_task(task, backend)))
        except Exception as exc:  # noqa: BLE001 - recorded in the manifest, sweep continues
            out.append(("error", (task, f"{type(exc).__name__}: {exc}", traceback.format_exc())))
    return out


@dataclass
class RunSummary:
    """What :func:`run_experiment` did.

    Attributes:
        results_dir: Where results live.
        n_tasks: Tasks in the experiment.
        n_skipped: Tasks already committed (resume).
        n_ran: Tasks run now and committed.
        errors: ``(run_id, message)`` of tasks that raised.
        wall_time_s: Wall-clock time of this call.
    """

    results_dir: Path
    n_tasks: int
    n_skipped: int
    n_ran: int
    errors: list[tuple[str, str]]
    wall_time_s: float

    def __str__(self) -> str:
        s = (f"{self.n_tasks} tasks: ran {self.n_ran}, skipped {self.n_skipped} already done, "
             f"{len(self.errors)} failed ({self.wall_time_s:.1f} s) -> {self.results_dir}")
        for run_id, msg in self.errors[:10]:
            s += f"\n  FAILED {run_id}: {msg}"
        return s


def _work_units(tasks: list[Task], n_workers: int) -> list[list[Task]]:
    groups: dict[tuple[str, str], list[Task]] = {}
    for t in tasks:
        groups.setdefault((t.env.display, t.agent.display), []).append(t)
    units = []
    total = len(tasks)
    target = max(1, -(-total // max(1, 4 * n_workers)))
    for group in groups.values():
        for i in range(0, len(group), target):
            units.append(group[i : i + target])
    return units


def run_experiment(
    experiment: Experiment,
    results_dir: str | os.PathLike,
    *,
    n_jobs: int | None = 1,
    backend: str = "auto",
    force: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
) -> RunSummary:
    """Run every missing task of an experiment and commit each to the result store.

    Args:
        experiment: A validated :class:`~banditlab.experiment.Experiment`.
        results_dir: The results directory (created if needed).
        n_jobs: Worker processes (``1``: serial in this process; ``None`` or ``-1``:
            all cores). Results are identical whatever the number.
        backend: ``"auto"``, ``"kernel"`` or ``"python"`` for every task.
        force: Rerun tasks that are already committed.
        progress: Show a progress bar (tasks done, ETA).
        scheduler: Address of a Dask scheduler (requires the ``dask`` extra).

    Returns:
        A :class:`RunSummary`.
    """
    if backend not in BACKENDS:
        raise BanditlabError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if n_jobs is None or n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise BanditlabError(f"n_jobs: expected an integer >= 1 or -1 (all cores), got {n_jobs!r}")
    start = time.perf_counter()
    store = ResultStore(results_dir)
    tasks = experiment.tasks()
    done = set() if force else set(store.committed(verify=True))
    todo = [t for t in tasks if t.task_id not in done]
    errors: list[tuple[str, str]] = []
    n_ran = 0

    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=experiment.name, unit="task", disable=not progress,
               dynamic_ncols=True)

    def commit(outcomes: list[tuple[str, Any]]) -> None:
        nonlocal n_ran
        for status, payload in outcomes:
            if status == "ok":
                store.write(payload)
                n_ran += 1
            else:
                task, msg, tb = payload
                store.write_error(task.metadata(), msg, tb)
                errors.append((task.run_id, msg))
            bar.update(1)

    try:
        if scheduler is not None:
            from banditlab.distributed import run_units_dask

            run_units_dask(_work_units(todo, 8), backend, scheduler, commit)
        elif n_jobs == 1 or len(todo) <= 1:
            for unit in _work_units(todo, 1):
                commit(_run_unit(unit, backend))
        else:
            import multiprocessing as mp

            # forkserver: workers fork from a clean server process that has imported
            # banditlab once (fast start, no threads inherited from this process).
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(["banditlab.harness", "banditlab.envs",
                                        "banditlab.agents", *experiment.imports])
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
                futures = [pool.submit(_run_unit, unit, backend)
                           for unit in _work_units(todo, n_jobs)]
                for fut in as_completed(futures):
                    commit(fut.result())
    finally:
        bar.close()
    return RunSummary(Path(results_dir), len(tasks), len(tasks) - len(todo), n_ran, errors,
                      time.perf_counter() - start)


def run_many(
    envs: Sequence[Any],
    agents: Sequence[Any],
    *,
    n_seeds: int = 5,
    root_seed: int = 0,
    run_length: int | None = None,
    checkpoints: Any = "default",
    results_dir: str | os.PathLike,
    n_jobs: int | None = 1,
    backend: str = "auto",
    force: bool = False,
    progress: bool = True,
):
    """Python API equivalent of an experiment file; returns the loaded results.

    Args:
        envs: Env ids or ``(id, kwargs)`` pairs.
        agents: Agent ids, ``(id, kwargs)`` pairs or ``(id, kwargs, label)`` triples.
        n_seeds: Runs per pair.
        root_seed: Root entropy.
        run_length: Optional override of every env's run length.
        checkpoints: Checkpoint spec.
        results_dir: Results directory.
        n_jobs: Worker processes.
        backend: Execution backend.
        force: Rerun committed tasks.
        progress: Show a progress bar.

    Returns:
        :class:`~banditlab.results.Results` of the directory.
    """
    env_cfgs = [EnvConfig(e) if isinstance(e, str) else EnvConfig(e[0], dict(e[1]))
                for e in envs]
    agent_cfgs = []
    for a in agents:
        if isinstance(a, str):
            agent_cfgs.append(AgentConfig(a))
        else:
            agent_cfgs.append(AgentConfig(a[0], dict(a[1]), a[2] if len(a) > 2 else None))
    exp = Experiment(env_cfgs, agent_cfgs, n_seeds=n_seeds, root_seed=root_seed,
                     run_length=run_length, checkpoints=checkpoints)
    exp.validate()
    run_experiment(exp, results_dir, n_jobs=n_jobs, backend=backend, force=force,
                   progress=progress)
    return load_results(results_dir)
