"""Active learning and noisy 20 Questions: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Family guide: ``docs/families/active.md``.
"""

from banditlab.registry import register_agent

register_agent("RoundRobinMLE-v0", "banditlab.agents.active.baselines:RoundRobinMLE")
register_agent("SGBS-v1", "banditlab.agents.active.baselines:SGBS")
register_agent("InfoGainGreedy-v0", "banditlab.agents.active.baselines:InfoGainGreedy")
register_agent("SequentialHalving-v0", "banditlab.agents.active.baselines:SequentialHalving")
register_agent("LUCBForcedStop-v0", "banditlab.agents.active.baselines:LUCBForcedStop",
               {"delta": 0.1})
register_agent("TrackAndStopBudget-v0", "banditlab.agents.active.baselines:TrackAndStopBudget")
register_agent("LTALPolicy-v0", "banditlab.agents.active.ltal:LTALPolicy")
register_agent("LTALQuestionPolicy-v0",
               "banditlab.agents.active.ltal_questions:LTALQuestionPolicy")

# Benchmark agents of the env's oracle (``make_benchmark_policy(env.oracle, name)``); they
# read the live oracle, so they live in the ``oracle/`` namespace (tag ``needs_oracle``).
register_agent("oracle/StaticDesign-v0", "banditlab.agents.active.baselines:StaticDesign")
