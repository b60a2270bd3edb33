"""Which (env, agent) pairs the fused-vs-Gymnasium parity suite runs, built from declarations.

Every env declares its ``family`` and every agent the ``families`` it runs on (its
``families`` tag). A *kernel pair* is a *kernel env* (a continuing
:class:`~banditlab.core.KernelEnv`, or an episodic env whose ``kernel`` is an
:class:`~banditlab.core.EnvKernel` with the episodic fields) and a
:class:`~banditlab.core.KernelAgent` whose ``families`` include the env's family. A
candidate pair whose spaces the agent rejects (its ``_validate_params`` raises
:class:`~banditlab.core.BanditlabError`, e.g. a linear agent on a context-free env), or
whose agent needs a simulator the env does not provide, is *skipped*, and every skip is
returned with its reason so the coverage report shows it.

Benchmark (oracle) agents are bound to one instance (a payoff table, a policy) by their
hyperparameters. Registered ones tagged ``oracle=True`` are paired only where their
registered instance fits (other candidates are skipped with the agent's own reason); in
addition every kernel env is paired with each of its own oracle's benchmark policies that
is a kernel agent, referred to as ``"oracle:<name>"`` and built with
:func:`banditlab.registry.make_benchmark_policy` (:func:`build_agent`).

:func:`parity_plan` builds the plan; :func:`check_parity_coverage` fails when a family
that has both kernel envs and kernel agents of its own has zero pairs, so the suite
cannot shrink silently (the defect it guards against: envs that inherited a default
family were never paired with their own family's agents).
"""

from __future__ import annotations

import inspect
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from banditlab.core import BanditlabError, EnvKernel, KernelAgent, KernelEnv

__all__ = ["ParityPlan", "parity_plan", "check_parity_coverage", "small_env", "build_agent",
           "is_kernel_env"]


def small_env(env_id: str, horizon: int = 300):
    """Build a registered env with a short horizon when its constructor takes one.

    Episodic envs taking ``n_episodes`` get ``max(1, horizon // 10)`` episodes.
    """
    from banditlab.registry import env_spec, load_entry_point, make_env

    cls = load_entry_point(env_spec(env_id).entry_point)
    params = inspect.signature(cls).parameters
    if "horizon" in params:
        return make_env(env_id, horizon=horizon)
    if "n_episodes" in params and getattr(cls, "run_kind", None) == "episodic":
        return make_env(env_id, n_episodes=max(1, horizon // 10))
    return make_env(env_id)


def is_kernel_env(env) -> bool:
    """Whether ``env`` is a continuing KernelEnv or an episodic env with an episodic kernel."""
    if isinstance(env, KernelEnv):
        return env.run_kind == "continuing"
    kernel = getattr(env, "kernel", None)
    return (getattr(env, "run_kind", None) == "episodic" and isinstance(kernel, EnvKernel)
            and kernel.begin_episode is not None and kernel.terminated is not None)


def build_agent(env: Any, agent_ref: str):
    """Build a plan's agent: a registered id, or ``"oracle:<name>"`` from ``env``'s oracle."""
    from banditlab.registry import make_agent, make_benchmark_policy

    if agent_ref.startswith("oracle:"):
        return make_benchmark_policy(env.oracle, agent_ref.split(":", 1)[1])
    return make_agent(agent_ref)


@dataclass
class ParityPlan:
    """The pairs of the parity suite and what was left out, with reasons.

    Attributes:
        pairs: ``(env id, agent id)`` pairs to run.
        pair_family: Family of each pair (the env's family), keyed by the pair.
        skipped: ``(env id, agent id, reason)`` for candidates the agent rejects (spaces,
            or for instance-bound oracle agents the registered instance).
        instance_bound: Registered kernel agents tagged ``oracle=True``.
        kernel_envs: Family of every kernel env (continuing or episodic), by id.
        kernel_agents: Home family (first of ``families``) of every kernel agent, by id.
        broken: Ids that could not be built with their registered defaults, with the error.
    """

    pairs: list[tuple[str, str]] = field(default_factory=list)
    pair_family: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    kernel_envs: dict[str, str] = field(default_factory=dict)
    kernel_agents: dict[str, str] = field(default_factory=dict)
    instance_bound: set[str] = field(default_factory=set)
    broken: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of pairs per family, every family with kernel envs listed (zeros included)."""
        c = Counter(self.pair_family.values())
        return {f: c.get(f, 0) for f in sorted(set(self.kernel_envs.values()) | set(c))}

    def report(self) -> str:
        """One line per family: pairs, kernel envs, kernel agents, skipped candidates."""
        skipped = Counter(self.pair_family_of(e) for e, _, _ in self.skipped)
        oracle_pairs = Counter(f for (_, a), f in self.pair_family.items()
                               if a.startswith("oracle:"))
        lines = []
        for fam, n in self.counts().items():
            n_env = sum(1 for f in self.kernel_envs.values() if f == fam)
            n_agent = sum(1 for f in self.kernel_agents.values() if f == fam)
            lines.append(f"{fam}: {n} pairs ({oracle_pairs.get(fam, 0)} of them oracle: policies; "
                         f"{n_env} kernel envs, {n_agent} own kernel agents, "
                         f"{skipped.get(fam, 0)} candidates skipped)")
        return "\n".join(lines)

    def pair_family_of(self, env_id: str) -> str:
        """Family of a kernel env."""
        return self.kernel_envs[env_id]


def parity_plan(env_ids: list[str] | None = None, agent_ids: list[str] | None = None,
                horizon: int = 300) -> ParityPlan:
    """Build the parity plan over registered ids (all of them by default).

    Args:
        env_ids: Env ids to consider (default: every registered ``banditlab/`` id).
        agent_ids: Agent ids to consider (default: every registered agent).
        horizon: Horizon of the small envs built to read spaces.

    Returns:
        The :class:`ParityPlan`. Envs without a declared ``family`` and agents without a
        ``families`` tag raise, they are never silently dropped.
    """
    from banditlab import registry

    plan = ParityPlan()
    envs: dict[str, Any] = {}
    for eid in env_ids if env_ids is not None else registry.env_ids():
        try:
            env = small_env(eid, horizon)
        except Exception as exc:  # noqa: BLE001 - reported by the suite
            plan.broken[eid] = f"{type(exc).__name__}: {exc}"
            continue
        if is_kernel_env(env):
            family = getattr(type(env), "family", None)
            if not isinstance(family, str):
                raise BanditlabError(f"env {eid!r}: declares no family (class attribute 'family')")
            envs[eid] = env
            plan.kernel_envs[eid] = family
    for aid in agent_ids if agent_ids is not None else registry.agent_ids():
        try:
            agent = registry.make_agent(aid)
        except Exception as exc:  # noqa: BLE001 - reported by the suite
            plan.broken[aid] = f"{type(exc).__name__}: {exc}"
            continue
        if not isinstance(agent, KernelAgent):
            continue
        tags = agent.get_tags()
        if "families" not in tags or not tags["families"]:
            raise BanditlabError(f"agent {aid!r}: declares no families (tag 'families')")
        families = tuple(tags["families"])
        plan.kernel_agents[aid] = families[0]
        if tags.get("oracle"):
            plan.instance_bound.add(aid)
        for eid, env in envs.items():
            if plan.kernel_envs[eid] not in families:
                continue
            try:
                agent._validate_params(env.action_space, env.observation_space)
            except BanditlabError as exc:
                plan.skipped.append((eid, aid, str(exc)))
                continue
            if tags.get("needs_simulator") and getattr(env, "simulator", None) is None:
                plan.skipped.append((eid, aid, f"simulator: {type(agent).__name__} needs a "
                                               f"simulator, which {type(env).__name__} does not "
                                               "provide"))
                continue
            plan.pairs.append((eid, aid))
            plan.pair_family[(eid, aid)] = plan.kernel_envs[eid]
    for eid, env in envs.items():
        for name in sorted(env.oracle.benchmark_policies()):
            ref = f"oracle:{name}"
            try:
                agent = build_agent(env, ref)
            except Exception as exc:  # noqa: BLE001 - reported by the suite
                plan.broken[f"{eid}|{ref}"] = f"{type(exc).__name__}: {exc}"
                continue
            if isinstance(agent, KernelAgent):
                plan.pairs.append((eid, ref))
                plan.pair_family[(eid, ref)] = plan.kernel_envs[eid]
    return plan


def check_parity_coverage(plan: ParityPlan) -> None:
    """Fail when a family with its own kernel envs and kernel agents has no pair.

    Also fails when a kernel agent of a family has no pair at all on its home family's
    kernel envs (an agent whose every candidate was skipped is not checked anywhere).

    Raises:
        AssertionError: Naming the family or agent and the likely cause.
    """
    counts = plan.counts()
    env_families = set(plan.kernel_envs.values())
    for fam in sorted(env_families & set(plan.kernel_agents.values())):
        if counts.get(fam, 0) == 0:
            raise AssertionError(
                f"parity coverage: family {fam!r} has kernel envs and kernel agents but zero "
                "pairs. Most likely cause: an env or agent declares the wrong family."
            )
    paired = {a for _, a in plan.pairs}
    if any(a.startswith("oracle:") for a in paired):
        paired |= plan.instance_bound  # instance-bound agents also run through oracle: pairs
    for aid, fam in sorted(plan.kernel_agents.items()):
        if fam in env_families and aid not in paired:
            raise AssertionError(
                f"parity coverage: kernel agent {aid!r} (family {fam!r}) is paired with no env; "
                "every candidate was skipped or its families match no kernel env."
            )
