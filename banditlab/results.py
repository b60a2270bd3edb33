"""Results: one :class:`RunResult` per task, an atomic Parquet task store, one loader.

On disk (schema version :data:`SCHEMA_VERSION`)::

    <results_dir>/
        manifest.jsonl              one JSON line per committed (or failed) task
        tasks/<task_id>.parquet     the task's curves, long form

Each task file has the columns ``task_id`` (string), ``t`` (int64), ``metric``
(string) and ``value`` (float64): one row per (checkpoint, metric). It is
written to a temporary name and renamed (atomic), then a manifest line carrying
the task's metadata and the file's SHA-256 is appended and flushed: that line
is the commit marker. A task without a valid manifest line, or whose file is
missing or fails its checksum, is not committed; it is reported on load and
recomputed by the next run, never silently read.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SCHEMA_VERSION",
    "RunResult",
    "ResultStore",
    "Results",
    "load_results",
    "package_versions",
]

SCHEMA_VERSION = 1

#: Columns of :meth:`Results.to_frame`.
FRAME_COLUMNS = (
    "task_id",
    "run_id",
    "env_id",
    "env_label",
    "agent_id",
    "agent_label",
    "seed_index",
    "t",
    "metric",
    "value",
)


def package_versions() -> dict[str, str]:
    """Versions of banditlab and the libraries that determine results."""
    import gymnasium
    import numba

    import banditlab

    return {
        "banditlab": banditlab.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "gymnasium": gymnasium.__version__,
        "python": platform.python_version(),
    }


@dataclass(frozen=True)
class RunResult:
    """The outcome of one task = (env config, agent config, run index).

    Attributes:
        task_id: SHA-256 over the task's identity (see :mod:`banditlab.experiment`).
        run_id: ``f"{env_label}__{agent_label}__{seed_index}"``.
        env_id: Versioned env id.
        env_kwargs: Env constructor arguments.
        env_label: Display name of the env config (defaults to ``env_id``; grids add
            their values).
        agent_id: Versioned agent id (or ``"oracle:<name>"``).
        agent_label: Display name (defaults to ``agent_id``).
        agent_params: Hyperparameters after binding ``@known:`` references.
        seed_index: Run index ``i``.
        root_seed: Root entropy of the experiment.
        spawn_keys: ``{"env": [...], "agent": [...]}`` SeedSequence spawn keys.
        env_seed: Integer passed to ``env.reset(seed=...)``.
        agent_seed: Integer passed to ``agent.reset(seed=...)``.
        run_kind: ``"continuing"`` or ``"episodic"``.
        run_length: Rounds (steps or episodes) of the run.
        t: int64[n] checkpoint rounds (always ending at ``run_length``).
        curves: Cumulative metrics at the checkpoints, float64[n] each.
        backend: ``"kernel"`` (fused Numba loop) or ``"python"`` (Gymnasium loop).
        wall_time_s: Wall-clock time of the run (metadata; not a curve, so tables
            stay bit-identical across machines).
        versions: Library versions.
        totals: Whole-run scalars reported by ``oracle.run_totals()`` (e.g. SEA's
            sigma^2_{1:T}, Sigma^2_{1:T}, path length); metadata in the manifest.
        schema_version: :data:`SCHEMA_VERSION`.
    """

    task_id: str
    run_id: str
    env_id: str
    env_kwargs: dict[str, Any]
    env_label: str
    agent_id: str
    agent_label: str
    agent_params: dict[str, Any]
    seed_index: int
    root_seed: int
    spawn_keys: dict[str, list[int]]
    env_seed: int
    agent_seed: int
    run_kind: str
    run_length: int
    t: np.ndarray
    curves: dict[str, np.ndarray]
    backend: str
    wall_time_s: float
    versions: dict[str, str] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def finals(self) -> dict[str, float]:
        """Exact values of every metric at the end of the run."""
        return {m: float(v[-1]) for m, v in self.curves.items()}

    def metadata(self) -> dict[str, Any]:
        """JSON-serialisable metadata (everything but the curves)."""
        meta = {k: v for k, v in asdict(self).items() if k not in ("t", "curves")}
        meta["finals"] = self.finals
        meta["n_checkpoints"] = int(self.t.shape[0])
        return meta

    def to_long_arrays(self) -> dict[str, np.ndarray]:
        """Columns ``t``, ``metric``, ``value`` of the long-form task table."""
        metrics = sorted(self.curves)
        n = self.t.shape[0]
        return {
            "t": np.tile(self.t.astype(np.int64), len(metrics)),
            "metric": np.repeat(np.array(metrics, dtype=object), n),
            "value": np.concatenate([self.curves[m] for m in metrics]).astype(np.float64)
            if metrics
            else np.empty(0),
        }


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    return repr(obj)


class ResultStore:
    """Append-only task store in a results directory.

    Crash safety does not need ``fsync``: a killed process leaves either no file, a
    complete renamed file without a manifest line (recomputed), or a torn last manifest
    line (ignored); after a power loss a listed file that did not reach the disk fails
    its checksum and is recomputed. ``durable=True`` adds ``fsync`` calls so that
    committed tasks also survive a power loss (about 10 ms per task on common disks).

    Args:
        root: The results directory (created on first write).
        durable: ``fsync`` every task file and manifest line.
    """

    def __init__(self, root: str | os.PathLike, durable: bool = False):
        self.root = Path(root)
        self.durable = durable
        self.tasks_dir = self.root / "tasks"
        self.manifest_path = self.root / "manifest.jsonl"

    # ------------------------------------------------------------------ writing
    def _prepare(self) -> None:
        self.tasks_dir.mkdir(parents=True, exist_ok=True)

    def write(self, result: RunResult) -> None:
        """Write the task file atomically, then commit it with a manifest line."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._prepare()
        cols = result.to_long_arrays()
        table = pa.table(
            {
                "task_id": pa.array([result.task_id] * len(cols["t"]), pa.string()),
                "t": pa.array(cols["t"], pa.int64()),
                "metric": pa.array(cols["metric"].tolist(), pa.string()),
                "value": pa.array(cols["value"], pa.float64()),
            }
        )
        final = self.tasks_dir / f"{result.task_id}.parquet"
        fd, tmp = tempfile.mkstemp(dir=self.tasks_dir, prefix=".tmp-", suffix=".parquet")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            if self.durable:
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        entry = result.metadata()
        entry.update(status="ok", file=f"tasks/{final.name}", sha256=_sha256_file(final))
        self._append(entry)

    def write_error(self, task_meta: Mapping[str, Any], error: str, tb: str) -> None:
        """Record a task that raised (it will be retried by the next run)."""
        self._prepare()
        entry = dict(task_meta)
        entry.update(status="error", error=error, traceback=tb)
        self._append(entry)

    def _append(self, entry: Mapping[str, Any]) -> None:
        line = json.dumps(entry, default=_json_default, sort_keys=True, allow_nan=True)
        with open(self.manifest_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            if self.durable:
                os.fsync(f.fileno())

    # ------------------------------------------------------------------ reading
    def entries(self) -> list[dict[str, Any]]:
        """Manifest entries in order; a torn last line (crash mid-append) is ignored."""
        if not self.manifest_path.exists():
            return []
        out = []
        with open(self.manifest_path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def committed(self, verify: bool = True) -> dict[str, dict[str, Any]]:
        """Valid committed tasks by task id (last ok entry wins).

        Args:
            verify: Check every file's SHA-256 against its manifest entry; a
                missing or corrupted file is reported with a warning and left
                out, so the next run recomputes it.
        """
        ok: dict[str, dict[str, Any]] = {}
        for e in self.entries():
            if e.get("status") == "ok":
                ok[e["task_id"]] = e
            elif e.get("status") == "error":
                ok.pop(e["task_id"], None)
        if not verify:
            return ok
        valid = {}
        for tid, e in ok.items():
            path = self.root / e["file"]
            if not path.exists():
                warnings.warn(f"results: task file {e['file']} is missing; it will be recomputed",
                              stacklevel=2)
                continue
            if _sha256_file(path) != e["sha256"]:
                warnings.warn(
                    f"results: task file {e['file']} fails its checksum (corrupted or "
                    "truncated); it is ignored and will be recomputed",
                    stacklevel=2,
                )
                continue
            valid[tid] = e
        return valid

    def errors(self) -> dict[str, dict[str, Any]]:
        """Tasks whose latest manifest entry is an error."""
        latest: dict[str, dict[str, Any]] = {}
        for e in self.entries():
            latest[e["task_id"]] = e
        return {k: v for k, v in latest.items() if v.get("status") == "error"}


class Results:
    """All committed results of a results directory.

    Args:
        entries: Committed manifest entries by task id.
        root: The results directory.
    """

    def __init__(self, entries: Mapping[str, Mapping[str, Any]], root: Path):
        self.entries = dict(entries)
        self.root = Path(root)

    def __len__(self) -> int:
        return len(self.entries)

    def runs_frame(self):
        """One row per task with its metadata (ids, seeds, backend, wall time, versions)."""
        import pandas as pd

        rows = []
        for e in self.entries.values():
            row = {k: v for k, v in e.items() if k not in ("finals", "traceback")}
            for key in ("env_kwargs", "agent_params", "spawn_keys", "versions", "totals"):
                row[key] = json.dumps(row.get(key), sort_keys=True, default=_json_default)
            rows.append(row)
        frame = pd.DataFrame(rows)
        if len(frame):
            frame = frame.sort_values(
                ["env_label", "agent_label", "seed_index", "task_id"]
            ).reset_index(drop=True)
        return frame

    def to_frame(self):
        """The tidy long form: one row per (run, checkpoint, metric).

        Columns: ``task_id, run_id, env_id, env_label, agent_id, agent_label, seed_index,
        t, metric, value``; sorted by ``env_label, agent_label, seed_index, metric, t``
        (then ``task_id``), so the row order never depends on the order tasks finished.
        All task files are read in one ``pyarrow.dataset`` call.
        """
        import pandas as pd
        import pyarrow.dataset as ds

        if not self.entries:
            return pd.DataFrame({c: [] for c in FRAME_COLUMNS})
        import pyarrow as pa

        files = [str(self.root / e["file"]) for e in self.entries.values()]
        schema = pa.schema([("task_id", pa.string()), ("t", pa.int64()),
                            ("metric", pa.string()), ("value", pa.float64())])
        table = ds.dataset(files, format="parquet", schema=schema).to_table()
        frame = table.to_pandas()
        meta = pd.DataFrame(
            [
                {
                    "task_id": tid,
                    "run_id": e["run_id"],
                    "env_id": e["env_id"],
                    "env_label": e.get("env_label", e["env_id"]),
                    "agent_id": e["agent_id"],
                    "agent_label": e["agent_label"],
                    "seed_index": int(e["seed_index"]),
                }
                for tid, e in self.entries.items()
            ]
        )
        frame = frame.merge(meta, on="task_id", how="left")
        frame = frame[list(FRAME_COLUMNS)]
        return frame.sort_values(
            ["env_label", "agent_label", "seed_index", "metric", "t", "task_id"], kind="stable"
        ).reset_index(drop=True)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Export the tidy frame as CSV."""
        self.to_frame().to_csv(path, index=False)


def load_results(results_dir: str | os.PathLike, *, verify: bool = True) -> Results:
    """Load every committed task of a results directory.

    Args:
        results_dir: Directory written by :func:`banditlab.harness.run_experiment`.
        verify: Check file checksums (corrupted files are reported and left out).

    Returns:
        A :class:`Results`; ``.to_frame()`` gives the tidy table.
    """
    store = ResultStore(results_dir)
    return Results(store.committed(verify=verify), store.root)


def iter_frames(dirs: Iterable[str | os.PathLike]):
    """Concatenate the tidy frames of several results directories."""
    import pandas as pd

    return pd.concat([load_results(d).to_frame() for d in dirs], ignore_index=True)
