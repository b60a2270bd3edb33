"""Infinite-horizon average-reward MDPs: RiverSwim, SixArms, two-state, gridworld, linear.

Every env is a continuing :class:`~banditlab.core.KernelEnv` over an exact table
``(P, r)``; the tables, their validation and the kernels live in
:mod:`banditlab.envs.amdp.model`: each step draws exactly two uniforms from the noise
stream whatever the action, one for the next state (inverse CDF) and one for the reward
(used only with ``reward_noise="bernoulli"``), so agents on the same env seed face common
random numbers. The oracle (:mod:`banditlab.envs.amdp.oracle`) holds ``J*``, ``h*``,
``sp(h*)`` and ``pi*``, computed exactly at construction. Table builders of the linear
instances are at the bottom.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from banditlab.core import EnvKernel, KernelEnv
from banditlab.envs.amdp.model import (
    GRIDWORLD_LAYOUTS,
    OBS_TABLE_STATES,
    amdp_checkpoint,
    amdp_init,
    amdp_observe,
    amdp_observe_state,
    amdp_params,
    amdp_step,
    base_kernel_mixture_tables,
    gridworld_tables,
    low_rank_linear_tables,
    riverswim_tables,
    sixarms_tables,
    two_state_tables,
    validate_tables,
)
from banditlab.envs.amdp.oracle import AMDPOracle, solve_and_validate
from banditlab.validation import Interval, Options, validate_params, validate_value

__all__ = [
    "TabularAMDP",
    "RiverSwim",
    "SixArms",
    "TwoStateLowerBound",
    "GridWorldAMDP",
    "LinearAMDP",
    "LinearMixtureAMDP",
    "linear_amdp_tables",
    "linear_mixture_tables",
]

_COMMON_CONSTRAINTS: dict[str, Any] = {
    "horizon": Interval("int", 1, None),
    "reward_noise": Options("none", "bernoulli"),
    "start_state": Interval("int", 0, None),
}
"""Constraints of the arguments every env of the family takes (``start_state < S`` is
checked once the tables are known)."""


# --------------------------------------------------------------------------- envs
class TabularAMDP(KernelEnv):
    """A finite average-reward MDP given by exact tables (base of the family).

    ## Description
    An infinite-horizon MDP with no resets: one run is ``horizon`` steps of
    ``s_{t+1} ~ P(.|s_t, a_t)``. The learner is compared with the optimal gain.

    ## Action Space
    ``Discrete(A)``.

    ## Observation Space
    ``Discrete(S)``: the current state (kernel observation float64[1]).

    ## Reward
    ``r(s, a)`` (``reward_noise="none"``) or ``Bernoulli(r(s, a))``
    (``"bernoulli"``). Each step draws two uniforms (next state by inverse CDF,
    reward) whatever the action.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``; realised ``t J* - sum r``,
    pseudo ``sum_t (J* - r(s_t, a_t))``.

    ## Information
    ``t``; ``state`` (``s_t`` before the step); ``expected_reward``
    (``r(s_t, a_t)``); ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``transitions``: float[S, A, S], rows on the simplex.
    * ``rewards``: float[S, A] mean rewards in [0, 1].
    * ``horizon``: run length T (default 200000).
    * ``reward_noise``: ``"none"`` or ``"bernoulli"``.
    * ``start_state``: initial state (default 0); the optimal gain from it must be ``J*``.

    Known constants: ``n_states``, ``n_actions``, ``reward_max`` (1),
    ``span_bound`` (``sp(h*)``), ``span_bound_x2`` and ``span_bound_x4`` (for the
    sensitivity study of a loose bound B), ``horizon``.

    ## References
    Puterman, "Markov Decision Processes" (1994), ch. 8-9; Jaksch, Ortner & Auer,
    JMLR 11 (2010).

    ## Version History
    * v0: initial version.
    """

    family = "amdp"
    _parameter_constraints: ClassVar[dict[str, Any]] = dict(_COMMON_CONSTRAINTS)

    def __init__(
        self,
        transitions=None,
        rewards=None,
        horizon: int = 200_000,
        reward_noise: str = "none",
        start_state: int = 0,
    ):
        p = validate_params(self._parameter_constraints, {
            "horizon": horizon, "reward_noise": reward_noise, "start_state": start_state,
        })
        if transitions is None or rewards is None:
            transitions, rewards = riverswim_tables(6, "osband")
        P, r = validate_tables(transitions, rewards)
        self._setup(P, r, p, {})

    def _setup(self, P: np.ndarray, r: np.ndarray, p: dict[str, Any],
               extra_known: dict[str, Any]) -> None:
        """Spaces, oracle, known constants and kernel of validated tables.

        Args:
            P: float64[S, A, S] validated transitions.
            r: float64[S, A] validated mean rewards.
            p: Validated ``horizon``, ``reward_noise`` and ``start_state``.
            extra_known: Family-specific known constants (features, ...).

        Raises:
            BanditlabError: When ``start_state`` is not a state, or the MDP is not
                weakly communicating from it.
        """
        S, A = r.shape
        self.horizon = p["horizon"]
        self.run_length = self.horizon
        self.reward_noise = p["reward_noise"]
        self.start_state = validate_value("start_state", p["start_state"],
                                          Interval("int", 0, S - 1))
        self.transitions = P
        self.rewards = r
        solution = solve_and_validate(P, r, self.start_state)
        self.oracle = AMDPOracle(P, r, solution)
        self.action_space = gym.spaces.Discrete(A)
        self.observation_space = gym.spaces.Discrete(S)
        self.known_constants = MappingProxyType(
            {
                "n_states": S,
                "n_actions": A,
                "reward_max": 1.0,
                "span_bound": float(solution.span),
                "span_bound_x2": 2.0 * float(solution.span),
                "span_bound_x4": 4.0 * float(solution.span),
                "horizon": self.horizon,
                **extra_known,
            }
        )
        self.kernel = EnvKernel(
            params=amdp_params(P, r, solution.gain, self.reward_noise, self.start_state),
            init=amdp_init,
            step=amdp_step,
            observe=amdp_observe if S <= OBS_TABLE_STATES else amdp_observe_state,
            checkpoint=amdp_checkpoint,
        )

    def kernel_obs_to_obs(self, kobs):
        """The state index as ``np.int64``."""
        return np.int64(kobs[0])

    def _pre_step_info(self, action):
        return {"state": int(self.state_.s[0])}


class RiverSwim(TabularAMDP):
    """RiverSwim with ``n`` states (Strehl & Littman 2008; Osband et al. 2013).

    ## Description
    A chain: action 0 (left) moves left deterministically; action 1 (right)
    swims against the current. Small reward at the left end, large at the right
    end. Start state 0. See :func:`~banditlab.envs.amdp.model.riverswim_tables` for
    both parameterisations.

    ## Action Space
    ``Discrete(2)``.

    ## Observation Space
    ``Discrete(n)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``n``: number of states (>= 2, default 6).
    * ``variant``: ``"osband"`` (default) or ``"orel"``.
    * ``horizon``, ``reward_noise``, ``start_state`` as :class:`TabularAMDP`.

    ## References
    Strehl & Littman, JCSS 74 (2008); Osband, Russo & Van Roy, NeurIPS 2013.

    ## Version History
    * v0: initial version.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n": Interval("int", 2, None),
        "variant": Options("osband", "orel"),
        **_COMMON_CONSTRAINTS,
    }

    def __init__(
        self, n: int = 6, variant: str = "osband", horizon: int = 200_000,
        reward_noise: str = "none", start_state: int = 0,
    ):
        p = validate_params(self._parameter_constraints, {
            "n": n, "variant": variant, "horizon": horizon, "reward_noise": reward_noise,
            "start_state": start_state,
        })
        self.n = p["n"]
        self.variant = p["variant"]
        P, r = riverswim_tables(self.n, self.variant)
        self._setup(P, r, p, {})


class SixArms(TabularAMDP):
    """SixArms (Strehl & Littman 2008), rewards scaled to [0, 1].

    ## Description
    A hub and six rooms of decreasing reachability and increasing reward (see
    :func:`~banditlab.envs.amdp.model.sixarms_tables`). Under average reward it is
    degenerate (``J*`` = the largest reward): regret measures how fast room 6 is found;
    a large-span stress test.

    ## Action Space
    ``Discrete(6)``.

    ## Observation Space
    ``Discrete(7)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    ``horizon``, ``reward_noise``, ``start_state`` (default 0, the hub).

    ## References
    Strehl & Littman, JCSS 74 (2008).

    ## Version History
    * v0: initial version.
    """

    def __init__(self, horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0):
        p = validate_params(self._parameter_constraints, {
            "horizon": horizon, "reward_noise": reward_noise, "start_state": start_state,
        })
        P, r = sixarms_tables()
        self._setup(P, r, p, {})


class TwoStateLowerBound(TabularAMDP):
    """The two-state MDP of UCRL2's lower-bound construction.

    ## Description
    Reward 1 in s1, 0 in s0 for every action. From s0, action 0 moves to s1 with
    probability ``delta + epsilon``, the others with ``delta``; from s1 every
    action returns with ``delta``. ``J* = (delta + epsilon) / (2 delta + epsilon)``,
    diameter about ``1 / delta``. Start state s0.

    ## Action Space
    ``Discrete(n_actions)``.

    ## Observation Space
    ``Discrete(2)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``delta`` in (0, 0.5], ``epsilon`` in [0, 1 - delta], ``n_actions`` >= 1.
    * ``horizon``, ``reward_noise``, ``start_state``.

    ## References
    Jaksch, Ortner & Auer, JMLR 11 (2010), Sec. 6 (the construction is written from
    memory of the paper, not checked against its text [I]).

    ## Version History
    * v0: initial version.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "delta": Interval("real", 0.0, 0.5, closed="right"),
        "epsilon": Interval("real", 0.0, 1.0),
        "n_actions": Interval("int", 1, None),
        **_COMMON_CONSTRAINTS,
    }

    def __init__(
        self, delta: float = 0.1, epsilon: float = 0.05, n_actions: int = 2,
        horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0,
    ):
        p = validate_params(self._parameter_constraints, {
            "delta": delta, "epsilon": epsilon, "n_actions": n_actions, "horizon": horizon,
            "reward_noise": reward_noise, "start_state": start_state,
        })
        self.delta = p["delta"]
        # Transition probabilities stay in [0, 1]: delta + epsilon <= 1.
        self.epsilon = validate_value("epsilon", p["epsilon"],
                                      Interval("real", 0.0, 1.0 - self.delta))
        self.n_actions = p["n_actions"]
        P, r = two_state_tables(self.delta, self.epsilon, self.n_actions)
        self._setup(P, r, p, {})


class GridWorldAMDP(TabularAMDP):
    """Slippery 5x5 gridworld with a goal that teleports to the start.

    ## Description
    See :func:`~banditlab.envs.amdp.model.gridworld_tables`. Layouts ``"four_rooms"`` (default) and
    ``"empty"`` (Colosseum-style ``minigrid_empty``/``simple_grid`` designs).

    ## Action Space
    ``Discrete(4)`` (up, right, down, left).

    ## Observation Space
    ``Discrete(S)``, the free cells in row-major order.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``layout``: ``"four_rooms"`` or ``"empty"``.
    * ``slip``: slip probability in [0, 1) (default 0.1).
    * ``horizon``, ``reward_noise``; the start is the ``S`` cell.

    ## References
    Conserva & Rauber, "Hardness in Markov Decision Processes: Theory and Practice"
    (Colosseum), NeurIPS 2022; the 5x5 layouts are our own, in the style of its grid
    families [I].

    ## Version History
    * v0: initial version.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "layout": Options(*sorted(GRIDWORLD_LAYOUTS)),
        "slip": Interval("real", 0.0, 1.0, closed="left"),
        "horizon": _COMMON_CONSTRAINTS["horizon"],
        "reward_noise": _COMMON_CONSTRAINTS["reward_noise"],
    }

    def __init__(
        self, layout: str = "four_rooms", slip: float = 0.1, horizon: int = 200_000,
        reward_noise: str = "none",
    ):
        p = validate_params(self._parameter_constraints, {
            "layout": layout, "slip": slip, "horizon": horizon, "reward_noise": reward_noise,
        })
        self.layout = p["layout"]
        self.slip = p["slip"]
        P, r, start, cells = gridworld_tables(self.layout, self.slip)
        self.cells = tuple(cells)
        self._setup(P, r, {**p, "start_state": start}, {})


class LinearAMDP(TabularAMDP):
    """Linear AMDP ``P(.|s, a) = <phi(s, a), mu(.)>``, ``r = <phi, w_r>`` with known ``phi``.

    ## Description
    ``features="low_rank"``: a random instance
    (:func:`~banditlab.envs.amdp.model.low_rank_linear_tables`) fixed by
    ``instance_seed``; ``features="one_hot"``: RiverSwim-``n`` with
    ``phi = one-hot(s, a)`` (``d = 2n``).

    ## Action Space
    ``Discrete(A)``.

    ## Observation Space
    ``Discrete(S)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``features``: ``"low_rank"`` (default) or ``"one_hot"``.
    * ``n_states`` (20), ``n_actions`` (4), ``dim`` (8), ``alpha_phi`` (0.3),
      ``alpha_mu`` (0.5), ``instance_seed`` (0): low-rank instance.
    * ``n``: RiverSwim size for ``"one_hot"`` (default 6).
    * ``horizon``, ``reward_noise``, ``start_state``.

    Known constants add ``features`` (float64[S, A, d]) and ``dim``.

    ## References
    Wei et al., AISTATS 2021; He, Zhong & Yang, ICLR 2024.

    ## Version History
    * v0: initial version.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "features": Options("low_rank", "one_hot"),
        "n_states": Interval("int", 2, None),
        "n_actions": Interval("int", 1, None),
        "dim": Interval("int", 1, None),
        "alpha_phi": Interval("real", 0.0, None, closed="neither"),
        "alpha_mu": Interval("real", 0.0, None, closed="neither"),
        "instance_seed": Interval("int", 0, None),
        "n": Interval("int", 2, None),
        **_COMMON_CONSTRAINTS,
    }

    def __init__(
        self, features: str = "low_rank", n_states: int = 20, n_actions: int = 4, dim: int = 8,
        alpha_phi: float = 0.3, alpha_mu: float = 0.5, instance_seed: int = 0, n: int = 6,
        horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0,
    ):
        p = validate_params(self._parameter_constraints, {
            "features": features, "n_states": n_states, "n_actions": n_actions, "dim": dim,
            "alpha_phi": alpha_phi, "alpha_mu": alpha_mu, "instance_seed": instance_seed,
            "n": n, "horizon": horizon, "reward_noise": reward_noise, "start_state": start_state,
        })
        self.features = p["features"]
        P, r, phi = linear_amdp_tables(
            self.features, p["n_states"], p["n_actions"], p["dim"], p["alpha_phi"],
            p["alpha_mu"], p["instance_seed"], p["n"],
        )
        P, r = validate_tables(P, r)
        self._setup(P, r, p, {"features": phi, "dim": int(phi.shape[2])})


class LinearMixtureAMDP(TabularAMDP):
    """Linear-mixture AMDP ``P(s'|s, a) = <psi(s'|s, a), theta*>`` with known ``psi``.

    ## Description
    ``mixture="base_kernels"``: ``P = sum_j theta_j P_j`` over ``n_kernels``
    random base kernels (:func:`~banditlab.envs.amdp.model.base_kernel_mixture_tables`);
    ``mixture="one_hot"``: RiverSwim-``n`` with ``psi`` one-hot over (s, a, s') (``d = 2 n^2``).

    ## Action Space
    ``Discrete(A)``.

    ## Observation Space
    ``Discrete(S)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``mixture``: ``"base_kernels"`` (default) or ``"one_hot"``.
    * ``n_states`` (10), ``n_actions`` (3), ``n_kernels`` (4), ``alpha`` (0.5),
      ``instance_seed`` (0); ``n`` (6) for ``"one_hot"``.
    * ``horizon``, ``reward_noise``, ``start_state``.

    Known constants add ``mixture_features`` (float64[S, A, S, d]), ``dim`` and
    ``theta_norm_bound`` (a bound on ``||theta*||_2``: 1 for base kernels, ``||P||_F`` for one-hot).

    ## References
    Wu, Zhou & Gu, AISTATS 2022; He, Zhong & Yang, ICLR 2024.

    ## Version History
    * v0: initial version.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "mixture": Options("base_kernels", "one_hot"),
        "n_states": Interval("int", 2, None),
        "n_actions": Interval("int", 1, None),
        "n_kernels": Interval("int", 1, None),
        "alpha": Interval("real", 0.0, None, closed="neither"),
        "instance_seed": Interval("int", 0, None),
        "n": Interval("int", 2, None),
        **_COMMON_CONSTRAINTS,
    }

    def __init__(
        self, mixture: str = "base_kernels", n_states: int = 10, n_actions: int = 3,
        n_kernels: int = 4, alpha: float = 0.5, instance_seed: int = 0, n: int = 6,
        horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0,
    ):
        p = validate_params(self._parameter_constraints, {
            "mixture": mixture, "n_states": n_states, "n_actions": n_actions,
            "n_kernels": n_kernels, "alpha": alpha, "instance_seed": instance_seed, "n": n,
            "horizon": horizon, "reward_noise": reward_noise, "start_state": start_state,
        })
        self.mixture = p["mixture"]
        P, r, psi, theta_norm = linear_mixture_tables(
            self.mixture, p["n_states"], p["n_actions"], p["n_kernels"], p["alpha"],
            p["instance_seed"], p["n"],
        )
        P, r = validate_tables(P, r)
        self._setup(P, r, p, {"mixture_features": psi, "dim": int(psi.shape[3]),
                              "theta_norm_bound": theta_norm})


# --------------------------------------------------------------------------- linear tables
def linear_amdp_tables(
    features: str, n_states: int, n_actions: int, dim: int, alpha_phi: float, alpha_mu: float,
    instance_seed: int, n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(P, r, phi float64[S, A, d])`` of :class:`LinearAMDP` (arguments validated).

    ``"low_rank"``: :func:`~banditlab.envs.amdp.model.low_rank_linear_tables`;
    ``"one_hot"``: RiverSwim-``n`` (Osband parameters) with ``phi = one-hot(s, a)``.
    """
    if features == "low_rank":
        return low_rank_linear_tables(n_states, n_actions, dim, alpha_phi, alpha_mu,
                                      instance_seed)
    P, r = riverswim_tables(n, "osband")
    S, A = r.shape
    return P, r, np.eye(S * A).reshape(S, A, S * A)


def linear_mixture_tables(
    mixture: str, n_states: int, n_actions: int, n_kernels: int, alpha: float,
    instance_seed: int, n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(P, r, psi float64[S, A, S, d], theta_norm_bound)`` of :class:`LinearMixtureAMDP`.

    ``"base_kernels"``: :func:`~banditlab.envs.amdp.model.base_kernel_mixture_tables`,
    ``theta*`` on the simplex (norm bound 1); ``"one_hot"``: RiverSwim-``n`` with ``psi``
    one-hot over (s, a, s'), ``theta* = vec(P)`` (norm bound ``||P||_F``).
    """
    if mixture == "base_kernels":
        P, r, psi, _ = base_kernel_mixture_tables(n_states, n_actions, n_kernels, alpha,
                                                  instance_seed)
        return P, r, psi, 1.0
    P, r = riverswim_tables(n, "osband")
    S, A = r.shape
    psi = np.eye(S * A * S).reshape(S, A, S, S * A * S)
    return P, r, psi, float(np.linalg.norm(P))
