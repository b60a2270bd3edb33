"""banditlab agents, registered with :func:`banditlab.registry.register_agent`.

Every ``register_agent`` call lives in this file, so the catalogue reads in one
place. Importing :mod:`banditlab.agents` registers them all.
"""

if __name__ != "banditlab.agents":  # pragma: no cover - guard against the repo-root shadow
    raise ImportError(
        f"this folder must be imported as 'banditlab.agents', not {__name__!r}: install the "
        "package (pip install -e .) and do not run Python from the repository root"
    )

from banditlab.registry import register_agent

# --- classic baselines (foundation) -----------------------------------------------
register_agent("Uniform-v0", "banditlab.agents.baselines:Uniform")
register_agent("FixedArm-v0", "banditlab.agents.baselines:FixedArm")
register_agent("UCB1-v0", "banditlab.agents.ucb:UCB1", {"alpha": 2.0})

# --- classic bandits (foundation, continued) -----------------------------------------
register_agent("EpsilonGreedy-v0", "banditlab.agents.epsilon_greedy:EpsilonGreedy",
               {"epsilon": 0.1})
register_agent("KLUCB-v0", "banditlab.agents.kl_ucb:KLUCB", {"c": 0.0})
register_agent("ThompsonBeta-v0", "banditlab.agents.thompson:ThompsonBeta",
               {"alpha0": 1.0, "beta0": 1.0})
register_agent("ThompsonGaussian-v0", "banditlab.agents.thompson:ThompsonGaussian",
               {"prior_mean": 0.0, "prior_var": 1.0, "sigma": 1.0})
register_agent("Exp3-v0", "banditlab.agents.exp3:Exp3")
register_agent("TsallisINF-v0", "banditlab.agents.tsallis_inf:TsallisINF", {"eta_scale": 2.0})
register_agent("LinUCB-v0", "banditlab.agents.linear:LinUCB", {"alpha": 1.0, "lam": 1.0})
register_agent("LinTS-v0", "banditlab.agents.linear:LinTS", {"v": 0.5, "lam": 1.0})
# (end of section)

# --- LSD / recharging bandits (issue 3) ----------------------------------------------
register_agent("LSDUCBGreedy-v0", "banditlab.agents.lsd_ucb_greedy:LSDUCBGreedy",
               {"bonus_c": 1.5, "tau_max": 10, "obs_encoding": "signed_played_positive"})
register_agent("CombUCB1Block-v0", "banditlab.agents.lsd_combucb:CombUCB1Block",
               {"block": 3, "bonus_c": 1.5, "obs_encoding": "delay"})
register_agent("ISICombUCB1-v0", "banditlab.agents.lsd_combucb:ISICombUCB1",
               {"block": 3, "bonus_c": 1.5, "obs_encoding": "delay"})
register_agent("LSDLPUCB-v0", "banditlab.agents.lsd_lp_ucb:LSDLPUCB",
               {"tau_max": 10, "obs_encoding": "signed_played_positive"})
# (end of section)

# --- SOR relaxation (issue 4) --------------------------------------------------------
register_agent("RelaxTsallisINF-v0", "banditlab.agents.sor_tsallis_inf:TsallisINF")
register_agent("RelaxTsallisINFCB-v0", "banditlab.agents.sor_tsallis_inf:TsallisINFCB")
register_agent("ChebCB-v0", "banditlab.agents.sor_chebcb:ChebCB")
register_agent("RelaxFixedOmega-v0", "banditlab.agents.sor_baselines:FixedOmega")
register_agent("RelaxGaussSeidel-v0", "banditlab.agents.sor_baselines:GaussSeidel")
register_agent("RelaxYoung-v0", "banditlab.agents.sor_baselines:YoungOmega")
# (end of section)

# --- SEA online convex optimisation (issue 5) ----------------------------------------
# Defaults fit banditlab/SEAQuadratic-v0; experiment files bind "@known:<name>".
register_agent("OOMD-v0", "banditlab.agents.oco_oomd:OOMD",
               {"radius": 1.0, "diameter": 2.0, "smoothness": 1.0, "delta": 1.0, "cap": True,
                "step": "self_confident"})
register_agent("OFTRL-v0", "banditlab.agents.oco_oftrl:OFTRL",
               {"radius": 1.0, "diameter": 2.0, "delta": 1.0, "optimistic": True})
register_agent("FTRL-v0", "banditlab.agents.oco_oftrl:OFTRL",
               {"radius": 1.0, "diameter": 2.0, "delta": 1.0, "optimistic": False})
register_agent("OGD-v0", "banditlab.agents.oco_ogd:OGD",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "step": "sqrt"})
register_agent("AdaGradOGD-v0", "banditlab.agents.oco_ogd:OGD",
               {"radius": 1.0, "diameter": 2.0, "step": "adagrad_norm"})
register_agent("OptimisticONS-v0", "banditlab.agents.oco_ons:OptimisticONS",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "exp_concavity": 0.08,
                "accumulate": "g_minus_m", "optimistic": True})
register_agent("ONS-v0", "banditlab.agents.oco_ons:OptimisticONS",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "exp_concavity": 0.08,
                "accumulate": "g", "optimistic": False})
register_agent("SwordVariation-v0", "banditlab.agents.oco_sword:SwordVariation",
               {"radius": 1.0, "diameter": 2.0, "grad_bound": 3.5, "smoothness": 1.0,
                "horizon": 10000, "stability_gamma": 0.0})
# (end of section)

# --- adversarial linear-Q MDPs (issue 6) ---------------------------------------------
register_agent("DilatedBonusPO-v0", "banditlab.agents.advmdp_policy_opt:DilatedBonusPO")
register_agent("LogBarrierPO-v0", "banditlab.agents.advmdp_policy_opt:LogBarrierPO")
register_agent("MagnitudeReducedPO-v0", "banditlab.agents.advmdp_policy_opt:MagnitudeReducedPO")
register_agent("TabularExp3PO-v0", "banditlab.agents.advmdp_policy_opt:TabularExp3PO")
register_agent("AdvMDPUniform-v0", "banditlab.agents.advmdp_baselines:AdvMDPUniform")
# (end of section)

# --- average-reward MDPs (issue 7) ---------------------------------------------------
register_agent("UCRL2-v0", "banditlab.agents.amdp_ucrl2:UCRL2",
               {"delta": 0.05, "radius": "joa"})
register_agent("LOOPTab-v0", "banditlab.agents.amdp_loop:LOOPTab",
               {"span_bound": 6.32, "delta": 0.05, "radius": "laplace", "switch": "doubling"})
register_agent("LOOPMix-v0", "banditlab.agents.amdp_loop:LOOPMix",
               {"span_bound": 6.32, "lambda_reg": 1.0, "delta": 0.05})
register_agent("LOOPLin-v0", "banditlab.agents.amdp_linear:LOOPLin",
               {"span_bound": 6.32, "beta": 1.0, "lambda_reg": 1.0, "variant": "discounted"})
register_agent("PSRL-v0", "banditlab.agents.amdp_baselines:PSRL")
register_agent("CertaintyEquivalenceEpsGreedy-v0",
               "banditlab.agents.amdp_baselines:CertaintyEquivalenceEpsGreedy", {"c": 1.0})
# (end of section)

# --- active learning / 20 Questions (issue 8) ----------------------------------------
register_agent("RoundRobinMLE-v0", "banditlab.agents.active_baselines:RoundRobinMLE")
register_agent("SGBS-v0", "banditlab.agents.active_baselines:SGBS")
register_agent("InfoGainGreedy-v0", "banditlab.agents.active_baselines:InfoGainGreedy")
register_agent("SequentialHalving-v0", "banditlab.agents.active_baselines:SequentialHalving")
register_agent("LUCBForcedStop-v0", "banditlab.agents.active_baselines:LUCBForcedStop",
               {"delta": 0.1})
register_agent("TrackAndStopBudget-v0", "banditlab.agents.active_baselines:TrackAndStopBudget")
register_agent("LTALPolicy-v0", "banditlab.agents.active_ltal:LTALPolicy")
# (end of section)
