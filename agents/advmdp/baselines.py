"""Baselines of the adversarial linear-Q MDP family: uniform play and the best fixed policy.

Both expose their policy table (tag ``exposes_policy``), so the harness computes
their exact expected episode reward. :class:`AdvMDPBestFixedHindsight` reads the env's
live oracle (registered as ``oracle/AdvMDPBestFixedHindsight-v0``, tag ``needs_oracle``).
Both are kernel agents: thin wrappers of the kernels below, which the fused episodic
loop of :mod:`banditlab._fused` calls with the same generator.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit
from numba.np.random.generator_core import next_uint32, next_uint64

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.advmdp.kernel import generator_caller
from banditlab.envs.advmdp.oracle import AdvLinearQMDPOracle
from banditlab.validation import InstanceOf, require_discrete_actions

__all__ = [
    "AdvMDPUniform",
    "AdvMDPBestFixedHindsight",
    "TableHparams",
    "TableState",
    "table_init",
    "uniform_select",
    "uniform_integer",
    "fixed_select",
    "table_update",
    "table_policy",
]

_CHECK_ENV = ("banditlab/AdvLinearQMDP-v0", {"n_episodes": 32})


# --------------------------------------------------------------------------- kernels
class TableHparams(NamedTuple):
    """A fixed policy.

    Attributes:
        pi: float64[H, N, A] policy table (rows are distributions).
        actions: int64[H, N], the deterministic action of each state (fixed policies;
            unused by uniform play).
    """

    pi: np.ndarray
    actions: np.ndarray


class TableState(NamedTuple):
    """Nothing is learned (float64[0] placeholder)."""

    unused: np.ndarray


@njit(cache=True)
def table_init(dims, hparams, rng):
    """Empty :class:`TableState` (``dims = (A, 2)``; nothing drawn)."""
    return TableState(np.zeros(0))


_U32 = np.uint64(0xFFFFFFFF)
_U64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, error_model="numpy")
def uniform_integer(rng, n):
    """``rng.integers(0, n)`` (int64, ``n >= 1``) without the array Numba's ``integers`` allocates.

    The same draws as NumPy's and Numba's ``Generator.integers(0, n)``, which leave the
    generator in the same state: no draw for ``n = 1``; else Lemire's bounded rejection
    sampling of ``rng = n - 1`` on the generator's 32-bit stream (``rng < 2**32 - 1``),
    one raw 32-bit draw (``rng = 2**32 - 1``) or Lemire's 64-bit variant (larger ``rng``),
    transcribed from ``numba.np.random.random_methods`` (NumPy's ``distributions.c``).
    Without that module's ``assert`` and compiled with ``error_model="numpy"`` (its
    modulus is never 0), it has no exception path: Numba brackets code that may raise
    with reference-count updates of the arrays in scope, which cost more than the draw.
    """
    if n <= 1:
        return np.int64(0)
    bitgen = rng.bit_generator
    rng_ = np.uint64(n - 1)
    if rng_ < _U32:
        rng_excl = rng_ + np.uint64(1)
        m = np.uint64(next_uint32(bitgen)) * rng_excl
        leftover = m & _U32
        if leftover < rng_excl:
            threshold = (_U32 - rng_) % rng_excl
            while leftover < threshold:
                m = np.uint64(next_uint32(bitgen)) * rng_excl
                leftover = m & _U32
        return np.int64(m >> np.uint64(32))
    if rng_ == _U32:
        return np.int64(next_uint32(bitgen))
    rng_excl = rng_ + np.uint64(1)
    x = np.uint64(next_uint64(bitgen))
    leftover = x * rng_excl
    if leftover < rng_excl:
        threshold = (_U64 - rng_) % rng_excl
        while leftover < threshold:
            x = np.uint64(next_uint64(bitgen))
            leftover = x * rng_excl
    x0 = x & _U32
    x1 = x >> np.uint64(32)
    rng_excl0 = rng_excl & _U32
    rng_excl1 = rng_excl >> np.uint64(32)
    w0 = x0 * rng_excl0
    t = x1 * rng_excl0 + (w0 >> np.uint64(32))
    w1 = t & _U32
    w2 = t >> np.uint64(32)
    w1 += x0 * rng_excl1
    return np.int64(x1 * rng_excl1 + w2 + (w1 >> np.uint64(32)))


@njit(cache=True)
def uniform_select(state, hparams, obs, t, rng):
    """A uniform action: one ``rng.integers(0, A)`` draw (:func:`uniform_integer`)."""
    return uniform_integer(rng, hparams.pi.shape[2])


@njit(cache=True)
def fixed_select(state, hparams, obs, t, rng):
    """The fixed policy's action at ``obs = (h, s)`` (no draw)."""
    return hparams.actions[int(obs[0]), int(obs[1])]


@njit(cache=True)
def table_update(state, hparams, obs, action, reward, next_obs):
    """Nothing to learn."""


@njit(cache=True)
def table_policy(state, hparams):
    """float64[H, N, A], the policy table (a view)."""
    return hparams.pi


def _kernel_obs(observation) -> np.ndarray:
    return np.array([float(observation["h"]), float(observation["s"])])


class _TableAgent(KernelAgent):
    """Shared wrapper of the fixed-policy kernels (subclasses build :class:`TableHparams`)."""

    _select = staticmethod(uniform_select)

    def _table(self) -> TableHparams:
        raise NotImplementedError

    def make_kernel(self) -> AgentKernel:
        """The fixed-policy kernel (after :meth:`reset` recorded the sizes)."""
        return AgentKernel(self._table(), table_init, type(self)._select, table_update,
                           policy=table_policy)

    def _start(self, action_space, seed) -> None:
        self.rng_ = np.random.default_rng(seed)
        self.kernel_ = self.make_kernel()
        self.dims_ = np.array([self.A_, 2], dtype=np.int64)
        self.action_space_ = action_space
        self.state_ = self.kernel_.init(self.dims_, self.kernel_.hparams, self.rng_)
        self.t_ = 0

    def policy_table(self) -> np.ndarray:
        """float64[H, N, A], the policy table (copy)."""
        return table_policy(self.state_, self.kernel_.hparams).copy()

    def act(self, observation):
        """The kernel's action at the observed (layer, state)."""
        return int(generator_caller(self.kernel_.select)(
            self.state_, self.kernel_.hparams, _kernel_obs(observation), self.t_ + 1, self.rng_))

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""
        self.t_ += 1


def _layer_sizes(action_space, observation_space) -> tuple[int, int, int]:
    """``(H, N, A)`` read from the spaces of an adversarial linear-Q MDP."""
    require_discrete_actions(action_space)
    if not (
        isinstance(observation_space, gym.spaces.Dict)
        and {"h", "s"} <= set(observation_space.spaces)
    ):
        raise BanditlabError(
            "observation_space: expected Dict(h=Discrete(H), s=Discrete(N), ...) of an "
            "adversarial linear-Q MDP"
        )
    return (
        int(observation_space["h"].n),
        int(observation_space["s"].n),
        int(action_space.n),
    )


class AdvMDPUniform(_TableAgent):
    """Uniform random play at every state (linear-regret reference); exposes its policy."""

    display_name: ClassVar[str] = "Uniform"

    _tags = {
        "learns": False,
        "exposes_policy": True,
        "families": ("advmdp",),
        "check_env": _CHECK_ENV,
    }

    def __init__(self):
        pass

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        _layer_sizes(action_space, observation_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Read (H, N, A) from the spaces and seed ``rng_``."""
        self._validate_params(action_space, observation_space)
        self.H_, self.N_, self.A_ = _layer_sizes(action_space, observation_space)
        self._start(action_space, seed)

    def _table(self) -> TableHparams:
        """The uniform distribution everywhere (one ``integers`` draw per action)."""
        return TableHparams(np.full((self.H_, self.N_, self.A_), 1.0 / self.A_),
                            np.zeros((self.H_, self.N_), np.int64))


class AdvMDPBestFixedHindsight(_TableAgent):
    """Oracle agent: plays the best fixed deterministic policy over the whole run.

    Two-pass: at :meth:`reset` (which the harness calls after the env's
    ``reset(seed)``) it reads the already generated loss schedule from ``oracle``
    and solves one backward pass on the run's mean loss. Built by
    ``make_benchmark_policy(env.oracle, "best_fixed_hindsight")`` (experiment files:
    ``oracle:best_fixed_hindsight``).

    Args:
        oracle: The env's :class:`~banditlab.envs.advmdp.oracle.AdvLinearQMDPOracle`.
    """

    display_name: ClassVar[str] = "Best Fixed in Hindsight"

    _tags = {
        "learns": False,
        "oracle": True,
        "needs_oracle": True,
        "exposes_policy": True,
        "families": ("advmdp",),
        "check_env": _CHECK_ENV,
    }
    _parameter_constraints = {
        "oracle": InstanceOf(
            AdvLinearQMDPOracle,
            what="the env's AdvLinearQMDPOracle (use oracle:best_fixed_hindsight)",
        )
    }

    def __init__(self, oracle=None):
        self.oracle = oracle

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        _layer_sizes(action_space, observation_space)

    _select = staticmethod(fixed_select)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Solve the hindsight problem over the oracle's whole schedule."""
        self._validate_params(action_space, observation_space)
        self.H_, self.N_, self.A_ = _layer_sizes(action_space, observation_space)
        K = int(self.oracle.is_a_.shape[0]) if self.oracle.is_a_ is not None else 0
        if K == 0:
            raise BanditlabError("oracle: reset the env (reset(seed=...)) before this agent")
        _, self.policy_ = self.oracle.best_fixed_policy(0, K)
        self._start(action_space, seed)

    def _table(self) -> TableHparams:
        """The deterministic hindsight policy as one-hot rows, and its actions."""
        pi = np.zeros((self.H_, self.N_, self.A_))
        for h in range(self.H_):
            pi[h, np.arange(self.N_), self.policy_[h]] = 1.0
        return TableHparams(pi, np.ascontiguousarray(self.policy_, dtype=np.int64))
