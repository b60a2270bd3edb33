"""banditlab environments, registered in Gymnasium's registry as ``banditlab/<Name>-v<N>``.

Every ``register`` call lives in this file, so the catalogue reads in one place.
Importing :mod:`banditlab.envs` registers them all.
"""

if __name__ != "banditlab.envs":  # pragma: no cover - guard against the repo-root shadow
    raise ImportError(
        f"this folder must be imported as 'banditlab.envs', not {__name__!r}: install the "
        "package (pip install -e .) and do not run Python from the repository root"
    )

from gymnasium.envs.registration import register

# --- classic bandits (foundation) -------------------------------------------------
register(
    id="banditlab/Bernoulli-v0",
    entry_point="banditlab.envs.stochastic_bandits:BernoulliBandit",
    kwargs={"means": (0.2, 0.8), "horizon": 1000},
)
register(
    id="banditlab/Bernoulli10-v0",
    entry_point="banditlab.envs.stochastic_bandits:BernoulliBandit",
    kwargs={"means": tuple(0.1 + 0.08 * i for i in range(10)), "horizon": 10000},
)
register(
    id="banditlab/Gaussian-v0",
    entry_point="banditlab.envs.stochastic_bandits:GaussianBandit",
    kwargs={"means": (0.0, 0.5), "sigma": 1.0, "horizon": 1000},
)

# --- classic bandits (foundation, continued) -----------------------------------------
register(
    id="banditlab/AdversarialBandit-v0",
    entry_point="banditlab.envs.adversarial_bandits:AdversarialBandit",
    kwargs={"means": (0.9, 0.5, 0.3, 0.1), "schedule": "switch", "horizon": 10000},
)
register(
    id="banditlab/LinearContextual-v0",
    entry_point="banditlab.envs.contextual_bandits:LinearContextual",
    kwargs={"n_arms": 10, "dim": 5, "sigma": 0.5, "horizon": 2000},
)
# (end of section)

# --- LSD / recharging bandits (issue 3) ----------------------------------------------
register(
    id="banditlab/LSDBandit-v0",
    entry_point="banditlab.envs.lsd:LSDBandit",
    kwargs={"preset": "monotone", "random_instance_seed": 0, "n_arms": 3, "tau_max": 5,
            "monotone": True, "horizon": 2000},
)
register(
    id="banditlab/LSDLaforgue5-v0",
    entry_point="banditlab.envs.lsd:make_laforgue5",
    kwargs={"horizon": 3600},
)
register(
    id="banditlab/LSDLaforgue2-v0",
    entry_point="banditlab.envs.lsd:make_laforgue2",
    kwargs={"horizon": 3300},
)
register(
    id="banditlab/LSDRecharging-v0",
    entry_point="banditlab.envs.lsd:LSDBandit",
    kwargs={"preset": "concave", "random_instance_seed": 0, "n_arms": 5, "tau_max": 10,
            "monotone": True, "horizon": 10000},
)
register(
    id="banditlab/LSDBlocking-v0",
    entry_point="banditlab.envs.lsd:LSDBandit",
    kwargs={"preset": "blocking", "means": (0.9, 0.7, 0.5, 0.3), "block_lengths": (3, 2, 1, 0),
            "horizon": 10000},
)
register(
    id="banditlab/LSDSeasonal-v0",
    entry_point="banditlab.envs.lsd:LSDBandit",
    kwargs={"preset": "seasonal", "random_instance_seed": 0, "n_arms": 3, "tau_max": 8,
            "horizon": 10000},
)
# (end of section)

# --- SOR relaxation (issue 4) --------------------------------------------------------
register(
    id="banditlab/SORSequence-v0",
    entry_point="banditlab.envs.sor:SORSequence",
    # horizon 1000 (constructor default 5000) keeps the conformance rollouts cheap; the SOR-E1/E2
    # experiment files set run_length = 5000.
    kwargs={"instance_source": "shifted_laplacian", "variance": "high", "horizon": 1000},
)
# (end of section)

# --- SEA online convex optimisation (issue 5) ----------------------------------------
register(
    id="banditlab/SEAQuadratic-v0",
    entry_point="banditlab.envs.sea:SEAQuadratic",
    kwargs={"d": 10, "radius": 1.0, "noise": 0.1, "noise_kind": "ball", "schedule": "fixed",
            "horizon": 10000},
)
register(
    id="banditlab/SEALeastSquares-v0",
    entry_point="banditlab.envs.sea:SEALeastSquares",
    kwargs={"d": 10, "radius": 1.0, "noise": 0.1, "noise_kind": "ball", "schedule": "fixed",
            "horizon": 10000},
)
register(
    id="banditlab/SEALogistic-v0",
    entry_point="banditlab.envs.sea:SEALogistic",
    kwargs={"d": 10, "radius": 1.0, "schedule": "fixed", "feature_norm": 1.0,
            "horizon": 10000},
)
# (end of section)

# --- adversarial linear-Q MDPs (issue 6) ---------------------------------------------
register(
    id="banditlab/AdvLinearQMDP-v0",
    entry_point="banditlab.envs.adversarial_linear_mdp:AdvLinearQMDP",
    kwargs={"H": 3, "N": 4, "A": 3, "schedule": "iid_mix", "n_episodes": 2**14},
)
# (end of section)

# --- average-reward MDPs (issue 7) ---------------------------------------------------
register(
    id="banditlab/RiverSwim-v0",
    entry_point="banditlab.envs.average_reward_mdp:RiverSwim",
    kwargs={"n": 6, "variant": "osband", "horizon": 200_000},
)
register(
    id="banditlab/SixArms-v0",
    entry_point="banditlab.envs.average_reward_mdp:SixArms",
    kwargs={"horizon": 200_000},
)
register(
    id="banditlab/TwoStateLowerBound-v0",
    entry_point="banditlab.envs.average_reward_mdp:TwoStateLowerBound",
    kwargs={"delta": 0.1, "epsilon": 0.05, "n_actions": 2, "horizon": 200_000},
)
register(
    id="banditlab/GridWorldAMDP-v0",
    entry_point="banditlab.envs.average_reward_mdp:GridWorldAMDP",
    kwargs={"layout": "four_rooms", "slip": 0.1, "horizon": 200_000},
)
register(
    id="banditlab/LinearAMDP-v0",
    entry_point="banditlab.envs.average_reward_mdp:LinearAMDP",
    kwargs={"features": "low_rank", "n_states": 20, "n_actions": 4, "dim": 8,
            "instance_seed": 0, "horizon": 200_000},
)
register(
    id="banditlab/LinearMixtureAMDP-v0",
    entry_point="banditlab.envs.average_reward_mdp:LinearMixtureAMDP",
    kwargs={"mixture": "base_kernels", "n_states": 10, "n_actions": 3, "n_kernels": 4,
            "instance_seed": 0, "horizon": 200_000},
)
# (end of section)

# --- active learning / 20 Questions (issue 8) ----------------------------------------
register(
    id="banditlab/ActiveIdentification-v0",
    entry_point="banditlab.envs.active_learning:ActiveIdentification",
    kwargs={"provider": "synthetic_bai", "budget": 20, "n_episodes": 1000},
)
# (end of section)
