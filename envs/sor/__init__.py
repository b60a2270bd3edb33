"""SOR relaxation-parameter selection: environments, oracles and planners.

Choose the SOR relaxation parameter for each linear system of a sequence; cost is solver
iterations (Khodak et al., ICLR 2024).

Importing this package declares the family ``"sor"`` and registers its environments in
Gymnasium's registry. Family guide: ``docs/families/sor.md``.
"""

from gymnasium.envs.registration import register

from banditlab.registry import register_family

register_family(
    "sor",
    title="SOR relaxation-parameter selection",
    description=(
        "Choose the SOR relaxation parameter for each linear system of a sequence; cost "
        "is solver iterations (Khodak et al., ICLR 2024)."
    ),
)

register(
    id="banditlab/SORSequence-v1",
    entry_point="banditlab.envs.sor.env:SORSequence",
    # horizon 1000 (constructor default 5000) keeps the conformance rollouts cheap; the SOR-E1/E2
    # experiment files set run_length = 5000.
    kwargs={"instance_source": "shifted_laplacian", "variance": "high", "horizon": 1000},
)
