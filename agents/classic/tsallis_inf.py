"""1/2-Tsallis-INF (Zimmert & Seldin, 2021), best of both worlds for bandits.

Kernels on top, class below. The FTRL weights are computed by Newton's method on
the normaliser in :func:`banditlab.kernels.tsallis_inf_weights_into`.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.classic.exp3 import WeightState, importance_weighted_update, weight_init
from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels import categorical_sample, tsallis_inf_weights_into
from banditlab.validation import Interval, require_discrete_actions


class TsallisINFHparams(NamedTuple):
    """Kernel hyperparameters of :class:`TsallisINF`.

    Attributes:
        eta_scale: float64, constant of the learning rate ``eta_t = eta_scale / sqrt(t)``.
    """

    eta_scale: float


@njit(cache=True)
def tsallis_inf_select(state, hparams, obs, t, rng):
    """Sample from the 1/2-Tsallis-INF weights with ``eta_t = eta_scale / sqrt(t)``.

    The weights ``w_i = 4 / (eta_t (L_hat_i - x))^2`` solve the FTRL step with the
    1/2-Tsallis regulariser; ``x`` is found by Newton's method warm-started at the
    previous round's normaliser (``state.aux[0]``) and written into ``state.probs``
    (:func:`banditlab.kernels.tsallis_inf_weights_into`, no allocation). One uniform draw per
    call.

    Args:
        state: :class:`~banditlab.agents.classic.exp3.WeightState`.
        hparams: :class:`TsallisINFHparams`.
        obs: Ignored.
        t: Current round, from 1.
        rng: The agent's generator.
    """
    eta = hparams.eta_scale / np.sqrt(t)
    x = tsallis_inf_weights_into(state.cum_loss, eta, state.aux[0], state.probs, 1e-12, 100)
    state.aux[0] = x
    state.aux[1] = eta
    return categorical_sample(state.probs, rng)


class TsallisINF(KernelAgent):
    """1/2-Tsallis-INF with importance-weighted loss estimates and an anytime learning rate.

    FTRL over the simplex with the regulariser ``-sum_i 4 sqrt(w_i) / eta_t`` (the
    1/2-Tsallis entropy), losses ``l = 1 - r`` (rewards in [0, 1]) estimated by
    importance weighting, learning rate ``eta_t = eta_scale / sqrt(t)``; no knowledge
    of the horizon is needed (anytime).

    Args:
        eta_scale: Constant of the learning rate ``eta_t = eta_scale / sqrt(t)`` (> 0).
            The default 2.0 is the rate ``eta_t = 2 sqrt(1/t)`` of Zimmert & Seldin
            (2021, Thm 1) for importance-weighted estimates with weights
            ``4 / (eta_t (L_hat_i - x))^2`` (the reduced-variance estimator of the paper,
            with ``4 sqrt(1/t)``, is not implemented).

    Regret guarantee:
        Static pseudo-regret ``<= 4 sqrt(K T) + 1`` against any oblivious adversary and
        ``O(sum_a log T / Delta_a)`` in the stochastic regime (Zimmert & Seldin, 2021).

    References:
        Zimmert & Seldin, "Tsallis-INF: An Optimal Algorithm for Stochastic and
        Adversarial Bandits", JMLR 22 (2021); Audibert & Bubeck, "Minimax Policies for
        Adversarial and Stochastic Bandits", COLT 2009 (INF).
    """

    display_name: ClassVar[str] = "Tsallis-INF"
    _tags = {
        "families": ("classic",),
        "check_env": ("banditlab/AdversarialBandit-v0", {"horizon": 200}),
    }

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "eta_scale": Interval("real", 0.0, None, closed="neither"),
    }

    def __init__(self, eta_scale: float = 2.0):
        self.eta_scale = eta_scale

    def _validate_params(self, action_space, observation_space) -> None:
        """``eta_scale`` and discrete actions."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """Tsallis-INF kernel over :class:`~banditlab.agents.classic.exp3.WeightState`."""
        return AgentKernel(
            TsallisINFHparams(float(self.eta_scale)), weight_init, tsallis_inf_select,
            importance_weighted_update,
        )


__all__ = ["TsallisINF", "TsallisINFHparams", "WeightState", "tsallis_inf_select"]
