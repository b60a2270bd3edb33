"""SOR relaxation-parameter selection: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Agents that read the env's live oracle
(``oracle=`` hyperparameter) are registered in the ``oracle/`` namespace; the oracle
names them in its benchmark policies. Family guide: ``docs/families/sor.md``.
"""

from banditlab.registry import register_agent

register_agent("RelaxTsallisINF-v1", "banditlab.agents.sor.tsallis_inf:RelaxTsallisINF")
register_agent("RelaxTsallisINFCB-v1", "banditlab.agents.sor.tsallis_inf:RelaxTsallisINFCB")
register_agent("ChebCB-v0", "banditlab.agents.sor.chebcb:ChebCB")
register_agent("RelaxFixedOmega-v0", "banditlab.agents.sor.baselines:FixedOmega")
register_agent("RelaxGaussSeidel-v0", "banditlab.agents.sor.baselines:GaussSeidel")
register_agent("RelaxYoung-v0", "banditlab.agents.sor.baselines:YoungOmega")
register_agent("oracle/GridInstanceOptimal-v0",
               "banditlab.agents.sor.oracle_agents:GridInstanceOptimal")
register_agent("oracle/SORBestFixedHindsight-v0",
               "banditlab.agents.sor.oracle_agents:SORBestFixedHindsight")
register_agent("oracle/GoldenSection-v0", "banditlab.agents.sor.oracle_agents:GoldenSection")
register_agent("oracle/InterpolatedFixedOptimal-v0",
               "banditlab.agents.sor.oracle_agents:InterpolatedFixedOptimal")
