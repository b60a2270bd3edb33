"""Fused Numba run loops: env kernel and agent kernel stepped together in compiled code.

Two loops, written once in :data:`LOOP_TEMPLATE`:

* ``fused_run`` runs a whole continuing run and reads the env's checkpoint values
  in compiled code (agents without Python-level diagnostics);
* ``fused_segment`` runs rounds ``t_start..t_end`` and returns the running sums, so
  the driver in :mod:`banditlab.loops` can read agent diagnostics between segments.

The accumulation order is exactly that of the Python reference loop, so both paths
produce bit-identical curves (tested for every kernel env x kernel agent pair).

**Compiled once per machine.** For a pair whose five kernels are module-level
functions (``EnvKernel.step/observe/checkpoint``, ``AgentKernel.select/update``),
:func:`pair_loops` writes a small module that imports those kernels as globals and
defines the two loops with ``cache=True``, so Numba caches the compiled loop on
disk and any later process loads it instead of compiling. The module lives in
``$BANDITLAB_CACHE_DIR/fused`` (default ``~/.cache/banditlab/fused``) under a name
that digests everything the compiled code depends on: the template, the Python,
NumPy and Numba versions, the kernels' modules and names, and the source of every
module of the installed banditlab packages and of the kernels' own modules (Numba
does not notice edits to functions a cached function calls, so an edited kernel
must change the name). Files are written atomically and never rewritten; a file
whose text differs from what would be generated is not imported.

Kernels that are not importable by module and name (defined in a notebook or a
function) run on the generic loops, which take the kernels as arguments and are
compiled once per process and pair (Numba cannot cache functions specialised on
function arguments). :func:`pair_loops` says which one it returned.

**Episodic runs.** :data:`EPISODIC_TEMPLATE` holds ``fused_episodes``, the episode loop
of an episodic env kernel (the episodic fields of :class:`~banditlab.core.EnvKernel`)
and a kernel agent (those of :class:`~banditlab.core.AgentKernel`), written in the
order of the Python reference loop (``banditlab.loops._run_python_episodic``): before
each episode the env's ``begin_episode`` (not before the first one, which
``reset(seed)`` started) and the agent's, then the exact policy value, then the steps
until ``terminated``, then the agent's ``end_episode``. :func:`episodic_loops` caches
it per pair with the same machinery (:func:`load_generated`, stem
``"fused_episodic"``); missing optional agent kernels are the no-op kernels below.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from numba import njit

__all__ = [
    "LOOP_TEMPLATE",
    "PairLoops",
    "pair_loops",
    "generic_loops",
    "fused_cache_dir",
    "kernel_names",
    "kernel_module_digests",
    "load_generated",
    "EPISODIC_TEMPLATE",
    "EpisodicLoops",
    "episodic_loops",
]

LOOP_TEMPLATE = '''"""{doc}"""
import numpy as np
from numba import njit
{imports}

@njit(cache={cache})
def fused_segment(
    {kernel_params}env_state, env_params, agent_state, agent_hparams, env_rng, agent_rng, obs,
    t_start, t_end, sums,
):
    """Run rounds ``t_start..t_end``; update ``sums`` (float64[3]) in place; return the obs."""
    s_reward = sums[0]
    s_expected = sums[1]
    s_optimal = sums[2]
    for t in range(t_start, t_end + 1):
        obs = env_observe(env_state, env_params)
        action = agent_select(agent_state, agent_hparams, obs, t, agent_rng)
        reward, expected, optimal = env_step(env_state, env_params, action, env_rng)
        next_obs = env_observe(env_state, env_params)
        agent_update(agent_state, agent_hparams, obs, action, reward, next_obs)
        s_reward += reward
        s_expected += expected
        s_optimal += optimal
    sums[0] = s_reward
    sums[1] = s_expected
    sums[2] = s_optimal
    return env_observe(env_state, env_params)


@njit(cache={cache})
def fused_run(
    {kernel_params}env_state, env_params, agent_state, agent_hparams, env_rng, agent_rng, obs,
    checkpoints, n_values,
):
    """Run a whole run; return sums float64[n, 3] and env checkpoint values float64[n, n_values]."""
    n = checkpoints.shape[0]
    sums_out = np.empty((n, 3))
    values_out = np.empty((n, n_values))
    s_reward = 0.0
    s_expected = 0.0
    s_optimal = 0.0
    ci = 0
    next_cp = checkpoints[0]
    for t in range(1, checkpoints[n - 1] + 1):
        obs = env_observe(env_state, env_params)
        action = agent_select(agent_state, agent_hparams, obs, t, agent_rng)
        reward, expected, optimal = env_step(env_state, env_params, action, env_rng)
        next_obs = env_observe(env_state, env_params)
        agent_update(agent_state, agent_hparams, obs, action, reward, next_obs)
        s_reward += reward
        s_expected += expected
        s_optimal += optimal
        if t == next_cp:
            sums_out[ci, 0] = s_reward
            sums_out[ci, 1] = s_expected
            sums_out[ci, 2] = s_optimal
            values_out[ci, :] = env_checkpoint(env_state, env_params)
            ci += 1
            if ci < n:
                next_cp = checkpoints[ci]
    return sums_out, values_out
'''
"""Source of the two loops; ``{kernel_params}`` is empty when the kernels are globals."""

_ROLES = ("env_step", "env_observe", "env_checkpoint", "agent_select", "agent_update")

EPISODIC_TEMPLATE = '''"""{doc}"""
import numpy as np
from numba import njit
{imports}

@njit(cache={cache})
def fused_episodes(
    {kernel_params}env_state, env_params, agent_state, agent_hparams, env_rng, agent_rng,
    sim, sim_rng, k_start, k_end, t, use_policy_value, max_steps, sums,
):
    """Play episodes ``k_start..k_end`` (from 1) of a run; add to ``sums`` (float64[3]).

    ``t`` is the number of steps played before; returns the number after, or ``-k`` when
    episode ``k`` did not terminate within ``max_steps`` steps. With ``use_policy_value``
    the episode's expected reward is the env's exact value of the agent's policy.
    """
    for k in range(k_start, k_end + 1):
        if k > 1:
            env_begin_episode(env_state, env_params)
        obs = env_observe(env_state, env_params)
        agent_begin_episode(agent_state, agent_hparams, sim, sim_rng, agent_rng)
        value = 0.0
        if use_policy_value:
            value = env_policy_value(env_state, env_params,
                                     agent_policy(agent_state, agent_hparams))
        e_reward = 0.0
        e_expected = 0.0
        e_optimal = 0.0
        done = False
        for _ in range(max_steps):
            t += 1
            action = agent_select(agent_state, agent_hparams, obs, t, agent_rng)
            reward, expected, optimal = env_step(env_state, env_params, action, env_rng)
            next_obs = env_observe(env_state, env_params)
            agent_update(agent_state, agent_hparams, obs, action, reward, next_obs)
            obs = next_obs
            e_reward += reward
            e_expected += expected
            e_optimal += optimal
            if env_terminated(env_state, env_params):
                done = True
                break
        if not done:
            return -k
        agent_end_episode(agent_state, agent_hparams, agent_rng)
        if use_policy_value:
            e_expected = value
        sums[0] += e_reward
        sums[1] += e_expected
        sums[2] += e_optimal
    return t
'''
"""Source of the episode loop; ``{kernel_params}`` is empty when the kernels are globals."""

_EPISODIC_ROLES = (
    "env_begin_episode", "env_step", "env_observe", "env_terminated", "env_policy_value",
    "agent_begin_episode", "agent_select", "agent_update", "agent_end_episode", "agent_policy",
)


class PairLoops(NamedTuple):
    """The compiled loops of one (env kernel, agent kernel) pair.

    Attributes:
        fused_run: ``fused_run(*kernel_args, env_state, env_params, agent_state,
            agent_hparams, env_rng, agent_rng, obs, checkpoints, n_values)``.
        fused_segment: ``fused_segment(*kernel_args, env_state, env_params,
            agent_state, agent_hparams, env_rng, agent_rng, obs, t_start, t_end, sums)``.
        kernel_args: The five kernels for the generic loops, ``()`` for a cached pair.
        cached: Whether the loops come from a generated module cached on disk.
    """

    fused_run: Callable
    fused_segment: Callable
    kernel_args: tuple
    cached: bool


def fused_cache_dir() -> Path:
    """``$BANDITLAB_CACHE_DIR/fused`` or ``~/.cache/banditlab/fused`` (read at call time)."""
    root = os.environ.get("BANDITLAB_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "banditlab"
    return base / "fused"


def _kernel_name(fn) -> tuple[str, str] | None:
    """``(module, name)`` when ``fn`` is a dispatcher importable as ``module.name``."""
    py_func = getattr(fn, "py_func", None)
    if py_func is None:
        return None
    module, name = py_func.__module__, py_func.__qualname__
    if "." in name or "<" in name or module in (None, "__main__"):
        return None
    mod = sys.modules.get(module)
    if mod is None or getattr(mod, name, None) is not fn or not getattr(mod, "__file__", None):
        return None
    return module, name


@functools.lru_cache(maxsize=1)
def _package_sources_digest() -> str:
    """Digest of every source file of the installed banditlab packages."""
    import banditlab
    import banditlab.agents
    import banditlab.envs

    h = hashlib.sha256()
    roots = {Path(p) for pkg in (banditlab, banditlab.envs, banditlab.agents)
             for p in pkg.__path__}
    for root in sorted(roots):
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:  # noqa: ARG001 - cache key
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _module_digests(names) -> tuple[str, ...]:
    out = []
    for module in sorted({m for m, _ in names}):
        path = sys.modules[module].__file__
        st = os.stat(path)
        out.append(_file_digest(path, st.st_mtime_ns, st.st_size))
    return tuple(out)


def _generated_source(template: str, roles: tuple[str, ...], names, digest: str,
                      what: str) -> str:
    """``template`` with the named kernels imported as globals (inlined) under their roles."""
    imports = "\n".join(
        f"from {m} import {n} as _{role}\n{role} = njit(inline=\"always\")(_{role}.py_func)"
        for role, (m, n) in zip(roles, names, strict=True))
    pair = ", ".join(f"{m}.{n}" for m, n in names)
    return template.format(
        doc=f"{what} of one kernel pair, generated by banditlab._fused ({digest[:16]}).\n\n"
            f"Kernels: {pair}.",
        imports=imports, cache="True", kernel_params="")


def _generic_module(template: str, roles: tuple[str, ...], stem: str, what: str):
    """``template`` taking the kernels as arguments (compiled per process and pair)."""
    directory = Path(tempfile.gettempdir()) / f"banditlab-fused-{os.getuid()}"
    text = template.format(
        doc=f"Generic {what} (kernels as arguments), generated by banditlab._fused.",
        imports="", cache="False", kernel_params=", ".join(roles) + ",\n    ")
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    path = directory / f"{stem}_{digest}.py"
    if not _write_once(path, text):
        raise RuntimeError(f"cannot write the generic {what} to {path}")
    return _import_file(f"banditlab_fused_{stem}_{digest}", path)


def _write_once(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically unless it is already there; False if unwritable."""
    try:
        if path.exists():
            return path.read_text() == text
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        return False


def _import_file(module_name: str, path: Path):
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


@functools.lru_cache(maxsize=1)
def generic_loops() -> PairLoops:
    """Loops taking the five kernels as arguments (compiled per process and pair)."""
    module = _generic_module(LOOP_TEMPLATE, _ROLES, "generic", "fused loops")
    return PairLoops(module.fused_run, module.fused_segment, (), False)


def pair_loops(env_kernel, agent_kernel) -> PairLoops:
    """The fused loops of a pair: cached on disk when its kernels are importable.

    Args:
        env_kernel: An :class:`~banditlab.core.EnvKernel`.
        agent_kernel: An :class:`~banditlab.core.AgentKernel`.

    Returns:
        A :class:`PairLoops`; call its loops with ``*kernel_args`` first.
    """
    kernels = (env_kernel.step, env_kernel.observe, env_kernel.checkpoint,
               agent_kernel.select, agent_kernel.update)
    names = [_kernel_name(fn) for fn in kernels]
    loops = (None if any(n is None for n in names)
             else _cached_pair(tuple(names), _module_digests(names)))
    if loops is None:
        return generic_loops()._replace(kernel_args=kernels)
    return loops


@functools.cache
def _cached_pair(names: tuple[tuple[str, str], ...],
                 module_digests: tuple[str, ...]) -> PairLoops | None:
    module = load_generated("fused", names, module_digests,
                            lambda digest: _generated_source(LOOP_TEMPLATE, _ROLES, names,
                                                             digest, "Fused loops"))
    if module is None:
        return None  # no writable directory: the generic loops
    return PairLoops(module.fused_run, module.fused_segment, (), True)


def kernel_names(functions) -> tuple[tuple[str, str], ...] | None:
    """``(module, name)`` of each kernel, or ``None`` when one is not importable by name."""
    names = tuple(_kernel_name(fn) for fn in functions)
    return None if any(n is None for n in names) else names


def kernel_module_digests(names) -> tuple[str, ...]:
    """Digests of the source files of the kernels' modules (a cache key part)."""
    return _module_digests(names)


def load_generated(stem: str, names: tuple[tuple[str, str], ...],
                   module_digests: tuple[str, ...], render) -> Any:
    """Write (once) and import a generated module of compiled code over named kernels.

    The module's name digests ``stem``, the rendered template, the Python, NumPy
    and Numba versions, the kernels' names, the banditlab sources and
    ``module_digests``, so its Numba disk cache is never reused for other code.

    Args:
        stem: Kind of module (``"fused"``, ``"entry"``, ...).
        names: ``(module, name)`` of the kernels it imports.
        module_digests: :func:`kernel_module_digests` of ``names``.
        render: ``render(digest) -> source text``.

    Returns:
        The imported module, or ``None`` when no cache directory is writable.
    """
    import numba
    import numpy

    h = hashlib.sha256()
    for part in (stem, sys.version, numpy.__version__,
                 numba.__version__, repr(names), _package_sources_digest()):
        h.update(part.encode())
        h.update(b"\0")
    for module_digest in module_digests:
        h.update(module_digest.encode())
    h.update(render("").encode())  # an edited template gets new module names
    digest = h.hexdigest()
    text = render(digest)
    module_name = f"banditlab_{stem}_{digest[:24]}"
    for directory in (fused_cache_dir(),
                      Path(tempfile.gettempdir()) / f"banditlab-fused-{os.getuid()}"):
        path = directory / f"{module_name}.py"
        if _write_once(path, text):
            return _import_file(module_name, path)
    return None


# --------------------------------------------------------------------------- episodic runs
@njit(cache=True)
def no_begin_episode(state, hparams, sim, sim_rng, rng):
    """Agent kernel without an episode start (``AgentKernel.begin_episode`` is ``None``)."""


@njit(cache=True)
def no_end_episode(state, hparams, rng):
    """Agent kernel without an end-of-episode step (``AgentKernel.end_episode`` is ``None``)."""


@njit(cache=True)
def no_policy(state, hparams):
    """No policy table (the exact policy value is not computed)."""
    return 0.0


@njit(cache=True)
def no_policy_value(state, params, policy):
    """No exact policy value (the episode's expected reward is the sum over its steps)."""
    return 0.0


class EpisodicLoops(NamedTuple):
    """The compiled episode loop of one (episodic env kernel, agent kernel) pair.

    Attributes:
        fused_episodes: ``fused_episodes(*kernel_args, env_state, env_params, agent_state,
            agent_hparams, env_rng, agent_rng, sim, sim_rng, k_start, k_end, t,
            use_policy_value, max_steps, sums) -> t`` (see :data:`EPISODIC_TEMPLATE`).
        kernel_args: The ten kernels for the generic loop, ``()`` for a cached pair.
        cached: Whether the loop comes from a generated module cached on disk.
        policy_value: Whether the pair computes exact policy values (the env kernel has
            ``policy_value`` and the agent kernel ``policy``); otherwise both roles are
            no-ops and ``use_policy_value`` must be false.
    """

    fused_episodes: Callable
    kernel_args: tuple
    cached: bool
    policy_value: bool


@functools.lru_cache(maxsize=1)
def _generic_episodic():
    """The episode loop taking the ten kernels as arguments (compiled per process and pair)."""
    return _generic_module(EPISODIC_TEMPLATE, _EPISODIC_ROLES, "generic_episodic",
                           "fused episode loop").fused_episodes


@functools.cache
def _cached_episodic(names: tuple[tuple[str, str], ...], module_digests: tuple[str, ...]):
    module = load_generated("fused_episodic", names, module_digests,
                            lambda digest: _generated_source(EPISODIC_TEMPLATE,
                                                             _EPISODIC_ROLES, names, digest,
                                                             "Fused episode loop"))
    return None if module is None else module.fused_episodes


def episodic_loops(env_kernel, agent_kernel) -> EpisodicLoops:
    """The episode loop of a pair: cached on disk when its kernels are importable.

    Args:
        env_kernel: An :class:`~banditlab.core.EnvKernel` with the episodic fields set.
        agent_kernel: An :class:`~banditlab.core.AgentKernel`; ``begin_episode``,
            ``end_episode`` and ``policy`` may be ``None`` (no-op kernels).

    Returns:
        An :class:`EpisodicLoops`; call its loop with ``*kernel_args`` first.
    """
    with_value = env_kernel.policy_value is not None and agent_kernel.policy is not None
    kernels = (
        env_kernel.begin_episode, env_kernel.step, env_kernel.observe, env_kernel.terminated,
        env_kernel.policy_value if with_value else no_policy_value,
        no_begin_episode if agent_kernel.begin_episode is None else agent_kernel.begin_episode,
        agent_kernel.select, agent_kernel.update,
        no_end_episode if agent_kernel.end_episode is None else agent_kernel.end_episode,
        agent_kernel.policy if with_value else no_policy,
    )
    names = kernel_names(kernels)
    loop = None if names is None else _cached_episodic(names, kernel_module_digests(names))
    if loop is None:
        return EpisodicLoops(_generic_episodic(), kernels, False, with_value)
    return EpisodicLoops(loop, (), True, with_value)
