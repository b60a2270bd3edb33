"""Last-switch-dependent and recharging bandits: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Family guide: ``docs/families/lsd.md``.
"""

from banditlab.registry import register_agent

# ----------------------------------------------------------------------------- learners
register_agent("LSDUCBGreedy-v0", "banditlab.agents.lsd.ucb_greedy:LSDUCBGreedy",
               {"bonus_c": 1.5, "tau_max": 10, "obs_encoding": "signed_played_positive"})
register_agent("CombUCB1Block-v1", "banditlab.agents.lsd.combucb:CombUCB1Block",
               {"block": 3, "bonus_c": 1.5, "obs_encoding": "delay"})
register_agent("ISICombUCB1-v1", "banditlab.agents.lsd.combucb:ISICombUCB1",
               {"block": 3, "bonus_c": 1.5, "obs_encoding": "delay"})
# Also the oracle's ``lsd_lp_epochs`` policy when given the true ``payoff_table``.
register_agent("LSDLPUCB-v1", "banditlab.agents.lsd.lp_ucb:LSDLPUCB",
               {"tau_max": 10, "obs_encoding": "signed_played_positive"})

# ----------------------------------------------------------------------------- planners
# Oracle planners: the env's oracle names them in benchmark_policies() with the true
# payoff table. Overrides of the constructor defaults (payoff_table=None,
# obs_encoding="signed_played_positive", init_state="idle_max"): the registered defaults
# are the exact model of the planners' check env banditlab/LSDLaforgue2-v1 (arm 0 pays
# 0.05 in every state; arm 1 pays 0.06 when played in the previous round and 0.95
# otherwise; delay encoding; every arm starts as if just played), so each id builds and
# runs without arguments.
_LAFORGUE2 = {
    "payoff_table": (((0.05,) * 11, (0.05,) * 11), ((0.06,) * 11, (0.95,) * 11)),
    "obs_encoding": "delay",
}
register_agent("LSDOracleGreedy-v0", "banditlab.agents.lsd.planners:LSDOracleGreedy",
               _LAFORGUE2)
register_agent("LSDLPRounding-v1", "banditlab.agents.lsd.planners:LSDLPRounding", _LAFORGUE2)
register_agent("LSDRoundRobin-v0", "banditlab.agents.lsd.planners:LSDRoundRobin", _LAFORGUE2)
register_agent("LSDBlockPlanner-v0", "banditlab.agents.lsd.planners:LSDBlockPlanner",
               _LAFORGUE2)
register_agent("LSDOptimal-v0", "banditlab.agents.lsd.planners:LSDOptimal",
               {**_LAFORGUE2, "init_state": "all_delay_one"})
