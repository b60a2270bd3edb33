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

register(
    id="banditlab/SORTable-v0",
    entry_point="banditlab.envs.sor.table:SORTable",
    # The run of SORSequence-v1 read from the cached cost table (a kernel env: fused loop).
    # reset builds the whole table (SORSequence fills it block by block as the run reaches
    # it), so the registered horizon is one cache block, 250, to keep the conformance
    # rollouts (many seeds) cheap; experiment files set run_length.
    kwargs={"variance": "high", "horizon": 250},
)
