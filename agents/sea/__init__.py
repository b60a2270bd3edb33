"""Stochastically-extended-adversarial online convex optimisation: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Family guide: ``docs/families/sea.md``.
"""

from banditlab.registry import register_agent

# Defaults fit banditlab/SEAQuadratic-v0; experiment files bind "@known:<name>".
register_agent("OOMD-v0", "banditlab.agents.sea.oomd:OOMD",
               {"radius": 1.0, "diameter": 2.0, "smoothness": 1.0, "delta": 1.0, "cap": True,
                "step": "self_confident"})
register_agent("OFTRL-v0", "banditlab.agents.sea.oftrl:OFTRL",
               {"radius": 1.0, "diameter": 2.0, "delta": 1.0, "optimistic": True})
register_agent("FTRL-v0", "banditlab.agents.sea.oftrl:OFTRL",
               {"radius": 1.0, "diameter": 2.0, "delta": 1.0, "optimistic": False})
register_agent("OGD-v0", "banditlab.agents.sea.ogd:OGD",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "step": "sqrt"})
register_agent("AdaGradOGD-v0", "banditlab.agents.sea.ogd:OGD",
               {"radius": 1.0, "diameter": 2.0, "step": "adagrad_norm"})
register_agent("OptimisticONS-v0", "banditlab.agents.sea.ons:OptimisticONS",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "exp_concavity": 0.08,
                "accumulate": "g_minus_m", "optimistic": True})
register_agent("ONS-v0", "banditlab.agents.sea.ons:OptimisticONS",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "exp_concavity": 0.08,
                "accumulate": "g", "optimistic": False})
register_agent("SwordVariation-v0", "banditlab.agents.sea.sword:SwordVariation",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "smoothness": 1.0,
                "horizon": 10000, "stability_gamma": 0.0})
