"""SOR relaxation-parameter selection: agents.

Importing this package registers the family's agents with
:func:`banditlab.registry.register_agent`. Family guide: ``docs/families/sor.md``.
"""

from banditlab.registry import register_agent

register_agent("RelaxTsallisINF-v0", "banditlab.agents.sor.tsallis_inf:TsallisINF")
register_agent("RelaxTsallisINFCB-v0", "banditlab.agents.sor.tsallis_inf:TsallisINFCB")
register_agent("ChebCB-v0", "banditlab.agents.sor.chebcb:ChebCB")
register_agent("RelaxFixedOmega-v0", "banditlab.agents.sor.baselines:FixedOmega")
register_agent("RelaxGaussSeidel-v0", "banditlab.agents.sor.baselines:GaussSeidel")
register_agent("RelaxYoung-v0", "banditlab.agents.sor.baselines:YoungOmega")
