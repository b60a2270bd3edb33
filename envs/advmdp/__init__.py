"""Adversarial linear-Q MDPs: environments, oracles and planners.

Episodic MDPs with adversarial losses and linear Q-function features, bandit feedback (Luo
et al. 2021; Dai et al. 2023).

Importing this package declares the family ``"advmdp"`` and registers its environments in
Gymnasium's registry. Family guide: ``docs/families/advmdp.md``.
"""

from gymnasium.envs.registration import register

from banditlab.registry import register_family

register_family(
    "advmdp",
    title="Adversarial linear-Q MDPs",
    description=(
        "Episodic MDPs with adversarial losses and linear Q-function features, bandit "
        "feedback (Luo et al. 2021; Dai et al. 2023)."
    ),
)

register(
    id="banditlab/AdvLinearQMDP-v0",
    entry_point="banditlab.envs.advmdp.env:AdvLinearQMDP",
    kwargs={"H": 3, "N": 4, "A": 3, "schedule": "iid_mix", "n_episodes": 2**14},
)

register(
    id="banditlab/AdvLinearMDP-v0",
    entry_point="banditlab.envs.advmdp.env:AdvLinearMDP",
    kwargs={"H": 3, "N": 4, "A": 3, "schedule": "iid_mix", "n_episodes": 2**14},
)
