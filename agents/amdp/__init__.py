"""Average-reward MDPs: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`; every registered kwarg equals the class default
(listed to show the id's configuration). ``AMDPOptimalPolicy-v0`` is the benchmark agent the
oracle names for ``oracle:optimal`` (with ``policy`` = pi*). ``UCRL2-v1`` and ``LOOPTab-v1``
end episodes by the stopping rule of Jaksch et al. (2010, Fig. 1) (``-v0`` tested the pair
just played); ``LOOPLin-v1`` accepts the largest gain within tolerance in its fixed-point
variant (``-v0`` took the smallest residual). Family guide: ``docs/families/amdp.md``.
"""

from banditlab.registry import register_agent

register_agent("UCRL2-v1", "banditlab.agents.amdp.ucrl2:UCRL2",
               {"delta": 0.05, "radius": "joa"})
register_agent("LOOPTab-v1", "banditlab.agents.amdp.loop:LOOPTab",
               {"span_bound": 6.32, "delta": 0.05, "radius": "laplace", "switch": "doubling"})
register_agent("KLUCRL-v0", "banditlab.agents.amdp.evi_agents:KLUCRL", {"delta": 0.05})
register_agent("UCRL2B-v0", "banditlab.agents.amdp.evi_agents:UCRL2B", {"delta": 0.05})
register_agent("PMEVIDT-v0", "banditlab.agents.amdp.evi_agents:PMEVIDT",
               {"delta": 0.05, "radius": "weissman", "mitigate": True})
register_agent("LOOPMix-v0", "banditlab.agents.amdp.loop:LOOPMix",
               {"span_bound": 6.32, "lambda_reg": 1.0, "delta": 0.05})
register_agent("LOOPLin-v1", "banditlab.agents.amdp.linear:LOOPLin",
               {"span_bound": 6.32, "beta": 1.0, "lambda_reg": 1.0, "variant": "discounted",
                "fp_rule": "largest"})
register_agent("PSRL-v0", "banditlab.agents.amdp.baselines:PSRL")
register_agent("CertaintyEquivalenceEpsGreedy-v0",
               "banditlab.agents.amdp.baselines:CertaintyEquivalenceEpsGreedy", {"c": 1.0})
register_agent("AMDPTabularPolicy-v0", "banditlab.agents.amdp.baselines:TabularPolicy")
register_agent("AMDPOptimalPolicy-v0", "banditlab.agents.amdp.baselines:OptimalPolicy")
