"""Classic bandits: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Family guide: ``docs/families/classic.md``.
"""

from banditlab.registry import register_agent

register_agent("Uniform-v0", "banditlab.agents.classic.baselines:Uniform")
register_agent("FixedArm-v0", "banditlab.agents.classic.baselines:FixedArm")
register_agent("UCB1-v0", "banditlab.agents.classic.ucb:UCB1", {"alpha": 2.0})
register_agent("EpsilonGreedy-v0", "banditlab.agents.classic.epsilon_greedy:EpsilonGreedy",
               {"epsilon": 0.1})
register_agent("KLUCB-v0", "banditlab.agents.classic.kl_ucb:KLUCB", {"c": 0.0})
register_agent("ThompsonBeta-v0", "banditlab.agents.classic.thompson:ThompsonBeta",
               {"alpha0": 1.0, "beta0": 1.0})
register_agent("ThompsonGaussian-v0", "banditlab.agents.classic.thompson:ThompsonGaussian",
               {"prior_mean": 0.0, "prior_var": 1.0, "sigma": 1.0})
register_agent("Exp3-v0", "banditlab.agents.classic.exp3:Exp3")
register_agent("TsallisINF-v0", "banditlab.agents.classic.tsallis_inf:TsallisINF",
               {"eta_scale": 2.0})
register_agent("LinUCB-v0", "banditlab.agents.classic.linear:LinUCB", {"alpha": 1.0, "lam": 1.0})
register_agent("LinTS-v0", "banditlab.agents.classic.linear:LinTS", {"v": 0.5, "lam": 1.0})
