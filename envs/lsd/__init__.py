"""Last-switch-dependent and recharging bandits: environments, oracles and planners.

Arm payoffs depend on how long an arm has been played or rested (Laforgue et al. 2022;
Foussoul et al. 2023).

Importing this package declares the family ``"lsd"`` and registers its environments in
Gymnasium's registry. Family guide: ``docs/families/lsd.md``.
"""

from gymnasium.envs.registration import register

from banditlab.registry import register_family

register_family(
    "lsd",
    title="Last-switch-dependent and recharging bandits",
    description=(
        "Arm payoffs depend on how long an arm has been played or rested (Laforgue et al. "
        "2022; Foussoul et al. 2023)."
    ),
)

# Every LSDBandit id is an instance: its kwargs are overrides of the constructor defaults
# (preset="table", horizon=10_000, ...) that pick the preset, its size and the horizon.
# The two Laforgue ids use factories whose registered kwargs equal their defaults.
# v1 (every id): the LP-rounding comparators changed (no greedy fills); v0 is dropped.
register(
    id="banditlab/LSDBandit-v1",
    entry_point="banditlab.envs.lsd.env:LSDBandit",
    kwargs={"preset": "monotone", "random_instance_seed": 0, "n_arms": 3, "tau_max": 5,
            "monotone": True, "horizon": 2000},
)
# Laforgue et al. (AISTATS 2022), main experiment.
register(
    id="banditlab/LSDLaforgue5-v1",
    entry_point="banditlab.envs.lsd.env:make_laforgue5",
    kwargs={"horizon": 3600},
)
# Laforgue et al. (AISTATS 2022), supplementary experiment.
register(
    id="banditlab/LSDLaforgue2-v1",
    entry_point="banditlab.envs.lsd.env:make_laforgue2",
    kwargs={"horizon": 3300},
)
register(
    id="banditlab/LSDRecharging-v1",
    entry_point="banditlab.envs.lsd.env:LSDBandit",
    kwargs={"preset": "concave", "random_instance_seed": 0, "n_arms": 5, "tau_max": 10,
            "monotone": True, "horizon": 10000},
)
register(
    id="banditlab/LSDBlocking-v1",
    entry_point="banditlab.envs.lsd.env:LSDBandit",
    kwargs={"preset": "blocking", "means": (0.9, 0.7, 0.5, 0.3), "block_lengths": (3, 2, 1, 0),
            "horizon": 10000},
)
register(
    id="banditlab/LSDSeasonal-v1",
    entry_point="banditlab.envs.lsd.env:LSDBandit",
    kwargs={"preset": "seasonal", "random_instance_seed": 0, "n_arms": 3, "tau_max": 8,
            "horizon": 10000},
)
# Several pulls per round (m_pulls = 2): a small concave recharging instance whose exact
# optimum over every set of at most 2 arms is computed.
register(
    id="banditlab/LSDMultiPull-v0",
    entry_point="banditlab.envs.lsd.env:LSDBandit",
    kwargs={"preset": "concave", "random_instance_seed": 0, "n_arms": 5, "tau_max": 6,
            "monotone": True, "m_pulls": 2, "horizon": 2000},
)
