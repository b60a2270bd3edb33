"""Adversarial linear-Q MDPs: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. The agent that reads the env's live oracle
(``oracle=`` hyperparameter) is registered in the ``oracle/`` namespace; the oracle names
it in its benchmark policies. Family guide: ``docs/families/advmdp.md``.
"""

from banditlab.registry import register_agent

register_agent("DilatedBonusPO-v1", "banditlab.agents.advmdp.policy_opt:DilatedBonusPO")
register_agent("LogBarrierPO-v1", "banditlab.agents.advmdp.policy_opt:LogBarrierPO")
register_agent("MagnitudeReducedPO-v1", "banditlab.agents.advmdp.policy_opt:MagnitudeReducedPO")
register_agent("TabularExp3PO-v1", "banditlab.agents.advmdp.policy_opt:TabularExp3PO")
register_agent("SimFreeLogBarrierPO-v0", "banditlab.agents.advmdp.linear_mdp:SimFreeLogBarrierPO")
register_agent("AdvMDPUniform-v0", "banditlab.agents.advmdp.baselines:AdvMDPUniform")
register_agent("oracle/AdvMDPBestFixedHindsight-v0",
               "banditlab.agents.advmdp.baselines:AdvMDPBestFixedHindsight")
