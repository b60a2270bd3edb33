"""SEA online convex optimisation: environments, oracles and planners.

Online convex optimisation between the stochastic and adversarial regimes (Sachs et al.
2022; Chen et al. 2023).

Importing this package declares the family ``"sea"`` and registers its environments in
Gymnasium's registry. Family guide: ``docs/families/sea.md``.
"""

from gymnasium.envs.registration import register

from banditlab.registry import register_family

register_family(
    "sea",
    title="Stochastically-extended-adversarial online convex optimisation",
    description=(
        "Online convex optimisation between the stochastic and adversarial regimes (Sachs "
        "et al. 2022; Chen et al. 2023)."
    ),
)

register(
    id="banditlab/SEAQuadratic-v0",
    entry_point="banditlab.envs.sea.env:SEAQuadratic",
    kwargs={"d": 10, "radius": 1.0, "noise": 0.1, "noise_kind": "ball", "schedule": "fixed",
            "horizon": 10000},
)
register(
    id="banditlab/SEALeastSquares-v0",
    entry_point="banditlab.envs.sea.env:SEALeastSquares",
    kwargs={"d": 10, "radius": 1.0, "noise": 0.1, "noise_kind": "ball", "schedule": "fixed",
            "horizon": 10000},
)
register(
    id="banditlab/SEALogistic-v0",
    entry_point="banditlab.envs.sea.env:SEALogistic",
    kwargs={"d": 10, "radius": 1.0, "schedule": "fixed", "feature_norm": 1.0,
            "horizon": 10000},
)
# Data-feedback instances (feedback="data"): the observation carries the round's data, so a
# learner can use the whole loss f_t (e.g. ImplicitOOMD-v0), not only its gradient.
register(
    id="banditlab/SEAQuadraticData-v0",
    entry_point="banditlab.envs.sea.env:SEAQuadratic",
    kwargs={"d": 10, "radius": 1.0, "noise": 0.1, "noise_kind": "ball", "schedule": "fixed",
            "horizon": 10000, "feedback": "data"},
)
register(
    id="banditlab/SEALeastSquaresData-v0",
    entry_point="banditlab.envs.sea.env:SEALeastSquares",
    kwargs={"d": 10, "radius": 1.0, "noise": 0.1, "noise_kind": "ball", "schedule": "fixed",
            "horizon": 10000, "feedback": "data"},
)
register(
    id="banditlab/SEALogisticData-v0",
    entry_point="banditlab.envs.sea.env:SEALogistic",
    kwargs={"d": 10, "radius": 1.0, "schedule": "fixed", "feature_norm": 1.0,
            "horizon": 10000, "feedback": "data"},
)
