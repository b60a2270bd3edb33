"""Stochastically-extended-adversarial online convex optimisation: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Family guide: ``docs/families/sea.md``.
"""

from banditlab.registry import register_agent

# Registered kwargs equal the class defaults unless marked as an override; the defaults fit
# banditlab/SEAQuadratic-v0 and experiment files bind "@known:<name>".
register_agent("OOMD-v0", "banditlab.agents.sea.oomd:OOMD",
               {"radius": 1.0, "diameter": 2.0, "smoothness": 1.0, "delta": 1.0, "cap": True,
                "step": "self_confident"})
register_agent("OFTRL-v0", "banditlab.agents.sea.oftrl:OFTRL",
               {"radius": 1.0, "diameter": 2.0, "delta": 1.0, "optimistic": True})
register_agent("FTRL-v0", "banditlab.agents.sea.oftrl:FTRL",
               {"radius": 1.0, "diameter": 2.0, "delta": 1.0})
# Override: OGD-v0 is the D/(G sqrt t) step (the class default is AdaGrad-norm, AdaGradOGD-v0).
register_agent("OGD-v0", "banditlab.agents.sea.ogd:OGD",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "step": "sqrt"})
register_agent("AdaGradOGD-v0", "banditlab.agents.sea.ogd:OGD",
               {"radius": 1.0, "diameter": 2.0, "step": "adagrad_norm"})
register_agent("OptimisticONS-v0", "banditlab.agents.sea.ons:OptimisticONS",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "exp_concavity": 0.08,
                "accumulate": "g_minus_m", "optimistic": True})
# v1: the Newton matrix of Hazan et al. (2007); v0 used I + (beta/2) sum g g' (see ons.ONS).
register_agent("ONS-v1", "banditlab.agents.sea.ons:ONS",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "exp_concavity": 0.08})
register_agent("SwordVariation-v0", "banditlab.agents.sea.sword:SwordVariation",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "smoothness": 1.0,
                "horizon": 10000, "stability_gamma": 0.0})
# Data feedback only (feedback="data" envs, e.g. banditlab/SEAQuadraticData-v0): proximal steps
# on the observed losses; experiment files bind loss = "@known:loss" (and h = "@known:h").
register_agent("ImplicitOOMD-v0", "banditlab.agents.sea.implicit:ImplicitOOMD",
               {"radius": 1.0, "diameter": 2.0, "delta": 1.0, "loss": "quadratic",
                "optimistic": True})

# Oracle agents: they take the env's live oracle as the ``oracle`` hyperparameter (tag
# needs_oracle). SEAOracle.benchmark_policies() names them; build them with
# banditlab.registry.make_benchmark_policy(env.oracle, "oomd_oracle_hint") and
# make_benchmark_policy(env.oracle, "dynamic_comparator").
register_agent("oracle/SEAOracleHintOOMD-v0", "banditlab.agents.sea.oomd:OracleHintOOMD")
register_agent("oracle/SEADynamicComparator-v0", "banditlab.agents.sea.oomd:DynamicComparator")
