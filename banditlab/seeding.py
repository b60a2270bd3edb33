"""Seeding: stable config digests and the task SeedSequence hierarchy.

* env seed = ``SeedSequence(root_seed, spawn_key=(digest(env_config), run_index))``
* agent seed = ``SeedSequence(root_seed, spawn_key=(digest(env_config),
  digest(agent_config), run_index))``

The env stream depends only on (root seed, env config, run index), so every
agent in repetition ``i`` faces the same noise: common random numbers by
construction. Digests are SHA-256 over canonical JSON, never Python's salted
``hash()``, so seeds are identical in every process and in any order.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "canonical_json",
    "digest",
    "digest_series",
    "digest32",
    "run_seeds",
    "seeds_from_digests",
    "task_seeds",
]


def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_canonical(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        if math.isnan(f) or math.isinf(f):
            return repr(f)
        return f
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    raise TypeError(f"cannot make a stable digest of {type(obj).__name__}: {obj!r}")


def canonical_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, arrays as lists."""
    return json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(obj: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def digest_series(base: Mapping[str, Any], key: str, values: Iterable[int]) -> list[str]:
    """:func:`digest` of ``{**base, key: v}`` for each integer ``v``, canonicalising ``base`` once.

    The same digests as calling :func:`digest` on each dict (an experiment's task ids
    differ only in the run index; this is what makes building 10^5 tasks take a second).
    """
    canon = _canonical(dict(base))
    out = []
    for v in values:
        text = json.dumps({**canon, str(key): int(v)}, sort_keys=True, separators=(",", ":"),
                          allow_nan=False)
        out.append(hashlib.sha256(text.encode()).hexdigest())
    return out


def digest32(obj: Any) -> int:
    """First 4 bytes of :func:`digest` as an unsigned 32-bit integer (a spawn-key entry)."""
    return int(digest(obj)[:8], 16)


def task_seeds(
    root_seed: int, env_config: Any, agent_config: Any, run_index: int
) -> tuple[int, int, dict[str, list[int]]]:
    """Integer seeds for ``env.reset`` and ``agent.reset`` of one task.

    Args:
        root_seed: The experiment's root entropy (non-negative integer).
        env_config: ``{"id": ..., "kwargs": ...}`` of the env.
        agent_config: ``{"id": ..., "kwargs": ...}`` of the agent (after binding).
        run_index: Repetition index ``i``.

    Returns:
        ``(env_seed, agent_seed, spawn_keys)`` where the seeds are 64-bit
        integers drawn with ``generate_state`` and ``spawn_keys`` records both keys.
    """
    return seeds_from_digests(root_seed, digest32(env_config), digest32(agent_config), run_index)


def seeds_from_digests(root_seed: int, env_digest: int, agent_digest: int, run_index: int
                       ) -> tuple[int, int, dict[str, list[int]]]:
    """:func:`task_seeds` from the configs' :func:`digest32` values (computed once per pair).

    Args:
        root_seed: The experiment's root entropy (non-negative integer).
        env_digest: ``digest32(env_config)``.
        agent_digest: ``digest32(agent_config)``.
        run_index: Repetition index ``i``.

    Returns:
        ``(env_seed, agent_seed, spawn_keys)`` as :func:`task_seeds`.
    """
    env_key = (int(env_digest), int(run_index))
    agent_key = (int(env_digest), int(agent_digest), int(run_index))
    env_ss = np.random.SeedSequence(root_seed, spawn_key=env_key)
    agent_ss = np.random.SeedSequence(root_seed, spawn_key=agent_key)
    env_seed = int(env_ss.generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> np.uint64(1))
    agent_seed = int(
        agent_ss.generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> np.uint64(1)
    )
    return env_seed, agent_seed, {"env": list(env_key), "agent": list(agent_key)}


def run_seeds(seed: int) -> tuple[int, int]:
    """Env and agent seeds of a single run started with ``seed`` (outside an experiment).

    They are the first 64-bit words of the two children of ``SeedSequence(seed)``,
    shifted to 63 bits, so every agent run with the same ``seed`` faces the same
    env noise.

    Args:
        seed: A non-negative integer.

    Returns:
        ``(env_seed, agent_seed)``.
    """
    ss = np.random.SeedSequence(seed)
    env_ss, agent_ss = ss.spawn(2)
    return (int(env_ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)),
            int(agent_ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
