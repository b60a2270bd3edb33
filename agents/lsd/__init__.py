"""Last-switch-dependent and recharging bandits: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Family guide: ``docs/families/lsd.md``.
"""

from banditlab.registry import register_agent

register_agent("LSDUCBGreedy-v0", "banditlab.agents.lsd.ucb_greedy:LSDUCBGreedy",
               {"bonus_c": 1.5, "tau_max": 10, "obs_encoding": "signed_played_positive"})
register_agent("CombUCB1Block-v0", "banditlab.agents.lsd.combucb:CombUCB1Block",
               {"block": 3, "bonus_c": 1.5, "obs_encoding": "delay"})
register_agent("ISICombUCB1-v0", "banditlab.agents.lsd.combucb:ISICombUCB1",
               {"block": 3, "bonus_c": 1.5, "obs_encoding": "delay"})
register_agent("LSDLPUCB-v0", "banditlab.agents.lsd.lp_ucb:LSDLPUCB",
               {"tau_max": 10, "obs_encoding": "signed_played_positive"})
