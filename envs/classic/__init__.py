"""Classic bandits: environments, oracles and planners.

Stochastic (Bernoulli, Gaussian), adversarial and linear contextual multi-armed bandits.

Importing this package declares the family ``"classic"`` and registers its environments in
Gymnasium's registry. Family guide: ``docs/families/classic.md``.
"""

from gymnasium.envs.registration import register

from banditlab.registry import register_family

register_family(
    "classic",
    title="Classic bandits",
    description=(
        "Stochastic (Bernoulli, Gaussian), adversarial and linear contextual multi-armed "
        "bandits."
    ),
)

register(
    id="banditlab/Bernoulli-v0",
    entry_point="banditlab.envs.classic.stochastic:BernoulliBandit",
    kwargs={"means": (0.2, 0.8), "horizon": 1000},
)
# Override of both class defaults (a named instance, not the class default): ten arms with
# evenly spaced means 0.1, 0.18, ..., 0.82 and T = 10000. Registered kwargs are part of the
# id's behaviour and never change under the same version.
register(
    id="banditlab/Bernoulli10-v0",
    entry_point="banditlab.envs.classic.stochastic:BernoulliBandit",
    kwargs={"means": tuple(0.1 + 0.08 * i for i in range(10)), "horizon": 10000},
)
register(
    id="banditlab/Gaussian-v0",
    entry_point="banditlab.envs.classic.stochastic:GaussianBandit",
    kwargs={"means": (0.0, 0.5), "sigma": 1.0, "horizon": 1000},
)
# horizon overrides the class default (1000): the registered instance is the 10000-round
# benchmark (best arm changes at round 5000); fixed under this id, like every registered kwarg.
register(
    id="banditlab/AdversarialBandit-v0",
    entry_point="banditlab.envs.classic.adversarial:AdversarialBandit",
    kwargs={"means": (0.9, 0.5, 0.3, 0.1), "schedule": "switch", "horizon": 10000},
)
# horizon overrides the class default (1000): the registered instance is the 2000-round
# benchmark; fixed under this id, like every registered kwarg.
register(
    id="banditlab/LinearContextual-v0",
    entry_point="banditlab.envs.classic.contextual:LinearContextual",
    kwargs={"n_arms": 10, "dim": 5, "sigma": 0.5, "horizon": 2000},
)
