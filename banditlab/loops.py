"""Run loops: one agent on one env, with its regret curves recorded at checkpoints.

Two execution paths produce identical trajectories for the same seeds:

* the **Python (Gymnasium) loop**, the reference, for any env and any agent;
* the **fused Numba loop** (:mod:`banditlab._fused`), chosen by ``backend="auto"``
  when the env is a :class:`~banditlab.core.KernelEnv` (continuing) or an episodic env
  with an episodic :class:`~banditlab.core.EnvKernel`, and the agent a
  :class:`~banditlab.core.KernelAgent`.

Metrics (all cumulative up to round ``t``, recorded at checkpoints):

* ``reward`` and ``expected_reward``;
* ``regret/<kind>`` = ``C_realised(t) - reward`` and ``pseudo_regret/<kind>`` =
  ``C_expected(t) - expected_reward`` for every non-paired kind of the env's oracle.
  For the primary per-step kind the expected comparator is the running sum of
  ``info["optimal_expected_reward"]``. The other comparator values of a kernel env
  come from ``EnvKernel.checkpoint``, read through its
  :class:`~banditlab.core.CheckpointLayout`, on *both* paths; for any other env they
  come from ``oracle.comparator``;
* every name in the env's ``extra_metrics`` (summed from ``info`` on the Python
  path, read from the kernel checkpoint on the fused path);
* ``agent/<name>`` for every entry of the agent's ``diagnostics()``.

For episodic envs a round is an episode: rewards are summed per episode and, for
agents tagged ``exposes_policy`` on envs whose oracle implements
``policy_expected_reward``, the expected episode reward is computed exactly from
the agent's policy table at the start of each episode.

:func:`run` is re-exported by :mod:`banditlab.harness`; :func:`run_task` is what the
execution backends (:mod:`banditlab.execution`) run for each task of an experiment.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from banditlab.core import (
    INFO_EXPECTED_REWARD,
    INFO_OPTIMAL_EXPECTED_REWARD,
    Agent,
    BanditlabError,
    CheckpointLayout,
    EnvKernel,
    KernelAgent,
    KernelEnv,
    Oracle,
)
from banditlab.experiment import (
    AgentConfig,
    Experiment,
    Task,
    require_banditlab_env,
    validate_checkpoints,
)
from banditlab.interrupts import raise_if_stopped
from banditlab.results import RunResult, package_versions
from banditlab.seeding import run_seeds

__all__ = ["run", "run_task", "build_pair", "BACKENDS", "fused_path_available"]

BACKENDS = ("auto", "kernel", "python")


# --------------------------------------------------------------------------- helpers
def _kinds(env) -> list[str]:
    oracle = env.oracle
    return [k for k, spec in oracle.regret_kinds.items() if not spec.paired]


def _episodic_kernel(env) -> EnvKernel | None:
    """The episodic :class:`~banditlab.core.EnvKernel` of an episodic env, or ``None``."""
    env = getattr(env, "unwrapped", env)
    kernel = getattr(env, "kernel", None)
    if (getattr(env, "run_kind", None) == "episodic" and isinstance(kernel, EnvKernel)
            and kernel.begin_episode is not None and kernel.terminated is not None):
        return kernel
    return None


def _can_fuse(env, agent) -> bool:
    """Whether the fused Numba loop can run ``agent`` on ``env`` (``backend="kernel"``).

    A continuing :class:`~banditlab.core.KernelEnv`, or an episodic env whose ``kernel``
    has the episodic fields, with a :class:`~banditlab.core.KernelAgent`.
    """
    if not isinstance(agent, KernelAgent):
        return False
    if isinstance(env, KernelEnv):
        return env.run_kind == "continuing"
    return _episodic_kernel(env) is not None


fused_path_available = _can_fuse


def _overrides(obj: Any, base: type, name: str) -> bool:
    """Whether ``obj``'s class overrides the optional member ``name`` declared on ``base``."""
    return getattr(type(obj), name) is not getattr(base, name)


def _resolve_env(env: Any):
    from banditlab.registry import make_env

    if isinstance(env, str):
        return make_env(env)
    if isinstance(env, tuple) and len(env) == 2 and isinstance(env[0], str):
        return make_env(env[0], **dict(env[1]))
    return getattr(env, "unwrapped", env)  # a Gymnasium wrapper, or the env itself


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


class _Comparators:
    """Where the regret comparators of one env come from, and the regret values at a checkpoint.

    A kernel env has exactly one source, its ``EnvKernel.checkpoint`` array read
    through :class:`~banditlab.core.CheckpointLayout` (``layout`` is set); any other env
    answers through ``oracle.comparator`` (``layout`` is ``None``).
    """

    def __init__(self, env, kinds: list[str]):
        self.env = env
        self.oracle: Oracle = env.oracle
        self.kinds = kinds
        self.layout: CheckpointLayout | None = (
            env.kernel.layout() if isinstance(env, KernelEnv) else None
        )
        if self.layout is not None:
            for kind in kinds:
                if kind != self.oracle.primary_kind and not self.layout.has_comparator(kind):
                    raise RuntimeError(f"kind {kind!r} has no comparator in the env kernel")
        self.reads_kernel = self.layout is not None and any(
            self.layout.has_comparator(k) for k in kinds
        )

    def kernel_values(self) -> np.ndarray | None:
        """The env kernel's checkpoint array now, when a regret value needs it (Python path)."""
        if not self.reads_kernel:
            return None
        kernel = self.env.kernel
        return kernel.checkpoint(self.env.state_, kernel.params)

    def regret_values(self, sums: np.ndarray, t: int, ck: np.ndarray | None) -> dict[str, float]:
        """Regret metrics at round ``t`` from the running sums and the comparators.

        The primary kind's expected comparator is the running sum of
        ``optimal_expected_reward``. Its realised comparator comes from the
        comparator source when that answers for it (a kernel env listing the kind in
        ``EnvKernel.comparator_kinds``; any other env whose ``oracle.comparator``
        answers), e.g. the realised losses of the dynamic comparator in online convex
        optimisation; otherwise it equals the expected one (the running sum of
        ``mu*`` for stochastic bandits).

        Args:
            sums: Running ``(reward, expected_reward, optimal_expected_reward)``.
            t: Rounds completed.
            ck: The kernel checkpoint array (kernel envs whose comparators it holds).
        """
        oracle, layout = self.oracle, self.layout
        values = {"reward": sums[0], "expected_reward": sums[1]}
        for kind in self.kinds:
            if kind == oracle.primary_kind:
                c_real = c_exp = sums[2]
                if layout is not None:
                    if layout.has_comparator(kind):
                        c_real = ck[layout.realised(kind)]
                else:
                    try:
                        c_real = oracle.comparator(kind, t)[0]
                    except (KeyError, NotImplementedError):
                        pass
            elif layout is not None:
                c_real, c_exp = ck[layout.realised(kind)], ck[layout.expected(kind)]
            else:
                c_real, c_exp = oracle.comparator(kind, t)
            values[f"regret/{kind}"] = float(c_real) - float(sums[0])
            values[f"pseudo_regret/{kind}"] = float(c_exp) - float(sums[1])
        return values


def _diagnostics(agent: Agent) -> dict[str, float]:
    return {f"agent/{k}": float(v) for k, v in agent.diagnostics().items()}


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


def _record_checkpoint(agent, comparators: _Comparators, sums, t, extra_sums, rec) -> None:
    values = comparators.regret_values(sums, t, comparators.kernel_values())
    values.update(extra_sums)
    values.update(_diagnostics(agent))
    rec.record(values)


def _run_python_continuing(env, agent, cps, comparators, env_seed, agent_seed, rec):
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
            _record_checkpoint(agent, comparators, sums, t, extra_sums, rec)
            ci += 1
            raise_if_stopped()


def _run_fused(env, agent, cps, comparators, env_seed, agent_seed, rec):
    from banditlab._fused import pair_loops

    env.reset(seed=env_seed)
    agent.reset(env.action_space, env.observation_space, seed=agent_seed,
                simulator=_simulator_for(env, agent))
    ek, ak = env.kernel, agent.kernel_
    loops = pair_loops(ek, ak)
    layout = comparators.layout
    obs = ek.observe(env.state_, ek.params)

    def record(t_cp: int, sums: np.ndarray, ck: np.ndarray) -> None:
        values = comparators.regret_values(sums, t_cp, ck)
        for name in layout.extra_metrics:
            values[name] = ck[layout.extra(name)]
        values.update(_diagnostics(agent))
        rec.record(values)

    if not _overrides(agent, Agent, "diagnostics"):
        # Whole run in compiled code; checkpoint values read inside the loop.
        sums, ck = loops.fused_run(
            *loops.kernel_args, env.state_, ek.params,
            agent.state_, ak.hparams, env.noise_rng_, agent.rng_, obs,
            np.ascontiguousarray(cps, dtype=np.int64), len(layout),
        )
        for i, t_cp in enumerate(cps):
            record(int(t_cp), sums[i], ck[i])
    else:
        # Python-level agent diagnostics: run compiled segments between checkpoints.
        sums = np.zeros(3)
        t_prev = 0
        for t_cp in cps:
            t_cp = int(t_cp)
            obs = loops.fused_segment(
                *loops.kernel_args, env.state_, ek.params, agent.state_,
                ak.hparams, env.noise_rng_, agent.rng_, obs, t_prev + 1, t_cp, sums,
            )
            t_prev = t_cp
            agent.t_ = t_cp
            record(t_cp, sums, ek.checkpoint(env.state_, ek.params))
            raise_if_stopped()
    agent.t_ = int(cps[-1])
    env.t_ = int(cps[-1])


def _exact_policy(env, agent) -> bool:
    """Whether episodes record the oracle's exact value of the agent's policy table."""
    return bool(agent.get_tags().get("exposes_policy")) and _overrides(
        env.oracle, Oracle, "policy_expected_reward"
    )


def _run_fused_episodic(env, agent, cps, comparators, env_seed, agent_seed, rec):
    """Episodes in compiled segments between checkpoints (the same order as the Python loop).

    Comparators come from the oracle (or the kernel checkpoint) at each checkpoint as
    on the Python path, extra metrics from ``EnvKernel.checkpoint``, diagnostics from the
    agent. Python-side bookkeeping of the env outside its kernel state (e.g. an oracle's
    current-episode index) is not advanced by the compiled loop.
    """
    from banditlab._fused import episodic_loops

    env.reset(seed=env_seed)
    simulator = _simulator_for(env, agent)
    agent.reset(env.action_space, env.observation_space, seed=agent_seed, simulator=simulator)
    ek, ak = env.kernel, agent.kernel_
    loops = episodic_loops(ek, ak)
    exact_policy = _exact_policy(env, agent)
    if exact_policy and not loops.policy_value:
        raise BanditlabError(
            f"agent: {type(agent).__name__} is tagged exposes_policy but the fused path has no "
            "exact policy value (AgentKernel.policy or EnvKernel.policy_value is missing); "
            "use backend='python'"
        )
    sim = None if simulator is None else simulator.handle_
    sim_rng = None if simulator is None else simulator.rng_
    layout = ek.layout()
    max_steps = int(getattr(env, "max_episode_steps", None) or 10**7)
    sums = np.zeros(3)
    k_prev = 0
    t = 0
    for k_cp in cps:
        k_cp = int(k_cp)
        t = loops.fused_episodes(
            *loops.kernel_args, env.state_, ek.params, agent.state_, ak.hparams,
            env.noise_rng_, agent.rng_, sim, sim_rng, k_prev + 1, k_cp, t, exact_policy,
            max_steps, sums,
        )
        if t < 0:
            raise RuntimeError(f"episode {-t} did not terminate within {max_steps} steps")
        k_prev = k_cp
        agent.t_ = t
        ck = ek.checkpoint(env.state_, ek.params)
        values = comparators.regret_values(sums, k_cp, comparators.kernel_values())
        for name in layout.extra_metrics:
            values[name] = float(ck[layout.extra(name)])
        values.update(_diagnostics(agent))
        rec.record(values)
        raise_if_stopped()


def _run_python_episodic(env, agent, cps, comparators, env_seed, agent_seed, rec):
    exact_policy = _exact_policy(env, agent)
    oracle = env.oracle
    sums = np.zeros(3)
    extra_sums = dict.fromkeys(env.extra_metrics, 0.0)
    obs, _ = env.reset(seed=env_seed)
    agent.reset(env.action_space, env.observation_space, seed=agent_seed,
                simulator=_simulator_for(env, agent))
    ci = 0
    # Optional bound on episode length of plain Gymnasium envs (see KernelEnv's contract).
    max_steps = getattr(env, "max_episode_steps", None) or 10**7
    for k in range(1, int(cps[-1]) + 1):
        if k > 1:
            obs, _ = env.reset()
        policy_value = (
            oracle.policy_expected_reward(agent.policy_table()) if exact_policy else None
        )
        policy_value = None if policy_value is None else float(policy_value)
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
            _record_checkpoint(agent, comparators, sums, k, extra_sums, rec)
            ci += 1
            raise_if_stopped()


def _simulator_for(env, agent):
    if agent.get_tags().get("needs_simulator"):
        # Declared (default None) on KernelEnv; plain Gymnasium envs may provide it.
        sim = env.simulator if isinstance(env, KernelEnv) else getattr(env, "simulator", None)
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
        seed: Seed from which the env and agent seeds are derived
            (:func:`banditlab.seeding.run_seeds`); all agents run with the same
            ``seed`` face the same env noise.
        run_length: Rounds to run (default: the env's ``run_length``; must not exceed it).
        checkpoints: ``None``/``"default"``, an integer count, or a list of rounds.
        backend: ``"auto"`` (fused when possible), ``"kernel"`` (fused, or an error)
            or ``"python"``.
        env_seed: Explicit env seed (overrides the one derived from ``seed``).
        agent_seed: Explicit agent seed (overrides the one derived from ``seed``).

    Returns:
        A :class:`~banditlab.results.RunResult` (its ``task_id`` is empty).

    Raises:
        BanditlabError: Invalid backend, run length, checkpoints or seeds, or a plain
            Gymnasium env (no oracle and run length: regret cannot be recorded).
    """
    if backend not in BACKENDS:
        raise BanditlabError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BanditlabError(f"seed: expected an integer >= 0, got {seed!r}")
    env = _resolve_env(env)
    require_banditlab_env(env, env.spec.id if getattr(env, "spec", None) is not None
                          else type(env).__name__)
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
    if env_seed is None or agent_seed is None:
        derived_env, derived_agent = run_seeds(int(seed))
        env_seed = derived_env if env_seed is None else env_seed
        agent_seed = derived_agent if agent_seed is None else agent_seed
    fusable = _can_fuse(env, agent)
    if backend == "kernel" and not fusable:
        raise BanditlabError(
            "backend: 'kernel' needs a continuing KernelEnv or an episodic env with an "
            "episodic EnvKernel, and a KernelAgent; "
            f"got {type(env).__name__} and {type(agent).__name__}"
        )
    use_kernel = fusable and backend != "python"
    comparators = _Comparators(env, _kinds(env))
    rec = _Recorder(cps)
    start = time.perf_counter()
    if use_kernel and env.run_kind == "episodic":
        _run_fused_episodic(env, agent, cps, comparators, env_seed, agent_seed, rec)
    elif use_kernel:
        _run_fused(env, agent, cps, comparators, env_seed, agent_seed, rec)
    elif env.run_kind == "episodic":
        _run_python_episodic(env, agent, cps, comparators, env_seed, agent_seed, rec)
    else:
        _run_python_continuing(env, agent, cps, comparators, env_seed, agent_seed, rec)
    wall = time.perf_counter() - start
    totals = {k: float(v) for k, v in env.oracle.run_totals().items()
              if isinstance(v, (int, float, np.integer, np.floating))
              and not isinstance(v, bool)}
    env_id = env.spec.id if getattr(env, "spec", None) is not None else type(env).__name__
    agent_id = agent.registry_id or type(agent).__name__
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


def build_pair(task: Task) -> tuple[Any, Agent]:
    """The env and agent of a task, built from their registered ids and arguments."""
    from banditlab.registry import make_agent, make_env

    env = make_env(task.env.id, **dict(task.env.kwargs))
    if task.agent.id.startswith("oracle:"):
        agent = Experiment.make_agent(task.agent, env)
    else:
        agent = make_agent(task.agent.id, **task.agent_params)
    return env, agent


def run_task(task: Task, backend: str = "auto", pair: tuple[Any, Agent] | None = None
             ) -> RunResult:
    """Run one task of an experiment (picklable; used by every execution backend).

    Args:
        task: The task.
        backend: Execution path.
        pair: The ``(env, agent)`` of an earlier task with the same env and agent
            configuration, to run this task's seeds on (``reset(seed=...)`` restarts
            both, so the result is the same as on fresh objects); ``None`` builds them
            and closes the env afterwards. See :func:`banditlab.execution.run_unit`.
    """
    env, agent = build_pair(task) if pair is None else pair
    res = run(
        env, agent, run_length=task.run_length, checkpoints=list(task.checkpoints),
        backend=backend, env_seed=task.env_seed, agent_seed=task.agent_seed,
    )
    if pair is None:
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
        imports=list(task.imports),
    )
