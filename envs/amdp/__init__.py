"""Average-reward MDPs: environments, oracles and planners.

Infinite-horizon average-reward (undiscounted) MDPs with gain regret against t*J* (Jaksch et
al. 2010; LOOP).

Importing this package declares the family ``"amdp"`` and registers its environments in
Gymnasium's registry. Family guide: ``docs/families/amdp.md``.
"""

from gymnasium.envs.registration import register

from banditlab.registry import register_family

register_family(
    "amdp",
    title="Average-reward MDPs",
    description=(
        "Infinite-horizon average-reward (undiscounted) MDPs with gain regret against "
        "t*J* (Jaksch et al. 2010; LOOP)."
    ),
)

register(
    id="banditlab/RiverSwim-v0",
    entry_point="banditlab.envs.amdp.env:RiverSwim",
    kwargs={"n": 6, "variant": "osband", "horizon": 200_000},
)
register(
    id="banditlab/SixArms-v0",
    entry_point="banditlab.envs.amdp.env:SixArms",
    kwargs={"horizon": 200_000},
)
register(
    id="banditlab/TwoStateLowerBound-v0",
    entry_point="banditlab.envs.amdp.env:TwoStateLowerBound",
    kwargs={"delta": 0.1, "epsilon": 0.05, "n_actions": 2, "horizon": 200_000},
)
register(
    id="banditlab/GridWorldAMDP-v0",
    entry_point="banditlab.envs.amdp.env:GridWorldAMDP",
    kwargs={"layout": "four_rooms", "slip": 0.1, "horizon": 200_000},
)
register(
    id="banditlab/LinearAMDP-v0",
    entry_point="banditlab.envs.amdp.env:LinearAMDP",
    kwargs={"features": "low_rank", "n_states": 20, "n_actions": 4, "dim": 8,
            "instance_seed": 0, "horizon": 200_000},
)
register(
    id="banditlab/LinearMixtureAMDP-v0",
    entry_point="banditlab.envs.amdp.env:LinearMixtureAMDP",
    kwargs={"mixture": "base_kernels", "n_states": 10, "n_actions": 3, "n_kernels": 4,
            "instance_seed": 0, "horizon": 200_000},
)
