"""Active learning and noisy 20 Questions: environments, oracles and planners.

Fixed-budget identification: best arm, thresholds and 20 Questions with learned robust
policies (Zhang, Jain & Jamieson 2020).

Importing this package declares the family ``"active"`` and registers its environments in
Gymnasium's registry. Family guide: ``docs/families/active.md``.
"""

from gymnasium.envs.registration import register

from banditlab.registry import register_family

register_family(
    "active",
    title="Active learning and noisy 20 Questions",
    description=(
        "Fixed-budget identification: best arm, thresholds and 20 Questions with learned "
        "robust policies (Zhang, Jain & Jamieson 2020)."
    ),
)

register(
    id="banditlab/ActiveIdentification-v0",
    entry_point="banditlab.envs.active.env:ActiveIdentification",
    kwargs={"provider": "synthetic_bai", "budget": 20, "n_episodes": 1000},
)
