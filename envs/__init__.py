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
# (end of section)

# --- SOR relaxation (issue 4) --------------------------------------------------------
# (end of section)

# --- SEA online convex optimisation (issue 5) ----------------------------------------
# (end of section)

# --- adversarial linear-Q MDPs (issue 6) ---------------------------------------------
# (end of section)

# --- average-reward MDPs (issue 7) ---------------------------------------------------
# (end of section)

# --- active learning / 20 Questions (issue 8) ----------------------------------------
# (end of section)
