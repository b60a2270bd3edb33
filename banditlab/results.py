"""Results: one :class:`RunResult` per task, an atomic Parquet task store, one loader.

On disk (schema version :data:`SCHEMA_VERSION`)::

    <results_dir>/
        manifest.jsonl              one JSON line per committed (or failed) task
        tasks/<name>.parquet        curves of the tasks of one work unit, long form
        experiments.jsonl           one JSON line per experiment run into the directory
        .lock                       held (``flock``) by the run writing the directory
        run-<k>/                    only with ``new_run``: a changed experiment's own directory

Each task file holds the tasks of one work unit (a single task's file is named
after its task id), with the columns ``task_id`` (string), ``t`` (int64),
``metric`` (string) and ``value`` (float64): one row per (task, checkpoint,
metric). It is written to a temporary name and renamed (atomic), then one
manifest line per task, carrying the task's metadata and the file's SHA-256, is
appended in one write: a task's line is its commit marker. A task without a
valid manifest line, or whose file is missing or fails its checksum, is not
committed; it is reported on load and
recomputed by the next run, never silently read. Files are created with the
user's umask (``0644`` under the usual ``022``).

**Compaction.** A sweep that finishes with at least :data:`COMPACT_MIN_FILES` task
files merges them into one ``tasks/compact-<id>.parquet`` (:meth:`ResultStore.compact`):
the merged file is committed by one manifest line (``"status": "compacted"``, its
SHA-256 and the files it replaces), after which the replaced files are deleted and
the task lines that named them are read as naming the merged file. Loading a
directory of 10^5 tasks then reads one file instead of thousands
(``benchmarks/bench_store.py``).

**Experiment identity.** A task id is a digest of everything that determines the
task (env and agent configs, labels, run index, root seed, run length,
checkpoints), so an edited experiment has new task ids. Each run records its
experiment in ``experiments.jsonl``: its digest (over its task ids), its
*generation* (1, 2, ... in the directory), its task ids with their run ids, its
``imports`` and ``import_path``. Manifest lines name the experiment that wrote
them. An experiment may reuse a directory when it *extends* the directory's
current experiment (more seeds, agents or grid values: every current task is
kept) or is a *subset* of it; a *changed* experiment (a task's configuration
differs: horizon, kwargs, root seed, a renamed label, ...) is refused with one
line naming ``new_run`` (``--new-run``), which writes it into a sub-directory
``run-<k>`` instead. :func:`load_results` shows only the tasks of the current
(latest) experiment unless ``all_tasks=True``. No task row is ever deleted
(compaction moves rows, it does not drop them).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "SCHEMA_VERSION",
    "COMPACT_MIN_FILES",
    "RunResult",
    "ResultStore",
    "WrittenTask",
    "Results",
    "load_results",
    "package_versions",
]

SCHEMA_VERSION = 1

COMPACT_MIN_FILES = 64
"""A finished sweep merges the task files of its directory when there are this many."""


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
        imports: The experiment's ``imports`` (modules that registered its ids), so
            that ``banditlab rerun`` can import them again.
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
    imports: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    @property
    def finals(self) -> dict[str, float]:
        """Exact values of every metric at the end of the run."""
        return {m: float(v[-1]) for m, v in self.curves.items()}

    def metadata(self) -> dict[str, Any]:
        """JSON-serialisable metadata (everything but the curves)."""
        # Shallow (``dataclasses.asdict`` deep-copies every value: a tenth of a tiny task).
        meta = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("t", "curves")}
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


def _strerror(exc: OSError) -> str:
    """The OS's short description of ``exc`` (``"No space left on device"``)."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _append_line(path: Path, line: str, durable: bool) -> None:
    """Append one newline-terminated line, cutting a torn last line first.

    An incomplete last line left by an interrupted write (it commits nothing) is cut
    first, with a warning, so that torn lines never end up in the middle of the file;
    a failed write (disk full) is rolled back to the previous end of the file.
    """
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            start = _last_line_start(fd, size)
            warnings.warn(
                f"results: {path.name} ended with an incomplete line (an interrupted write, "
                f"{size - start} bytes); it is removed before appending",
                stacklevel=3,
            )
            os.ftruncate(fd, start)
            size = start
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if durable:
                os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


def _last_line_start(fd: int, size: int) -> int:
    """Offset just after the last newline before ``size`` (0 if there is none)."""
    pos = size
    while pos > 0:
        lo = max(0, pos - (1 << 16))
        chunk = os.pread(fd, pos - lo, lo)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return lo + i + 1
        pos = lo
    return 0


class WrittenTask(NamedTuple):
    """A task whose data :meth:`ResultStore.write_file` wrote, not yet committed.

    Attributes:
        task_id: The task's id.
        line: Its manifest line (committing it is appending the line).
        path: The Parquet file holding its rows (with the unit's other tasks).
    """

    task_id: str
    line: str
    path: str


class ResultStore:
    """Append-only task store in a results directory.

    Crash safety does not need ``fsync``: a killed process leaves either no file, a
    complete renamed file without a manifest line (recomputed), or a torn last manifest
    line (ignored, and cut by the next append); after a power loss a listed file that
    did not reach the disk fails its checksum and is recomputed. ``durable=True`` adds
    ``fsync`` calls so that committed tasks also survive a power loss (about 10 ms per
    task on common disks). A write that fails (disk full, directory made read-only)
    raises ``OSError`` and leaves every committed task as it was.

    Args:
        root: The results directory (created on first write).
        durable: ``fsync`` every task file and manifest line.
    """

    def __init__(self, root: str | os.PathLike, durable: bool = False):
        self.root = Path(root)
        self.durable = durable
        self.tasks_dir = self.root / "tasks"
        self.manifest_path = self.root / "manifest.jsonl"
        self.experiments_path = self.root / "experiments.jsonl"
        self.lock_path = self.root / ".lock"
        self.experiment_digest: str | None = None  # written into manifest lines when set

    @classmethod
    def existing(cls, root: str | os.PathLike) -> ResultStore:
        """The store of an existing results directory.

        Raises:
            BanditlabError: One line when the directory is missing or holds no results.
        """
        from banditlab.errors import BanditlabError

        p = Path(root)
        if not p.exists():
            raise BanditlabError(f"results_dir: {str(p)!r} does not exist")
        if not p.is_dir():
            raise BanditlabError(f"results_dir: {str(p)!r} is not a directory")
        if not (p / "manifest.jsonl").exists():
            raise BanditlabError(
                f"results_dir: {str(p)!r} holds no banditlab results (no manifest.jsonl)"
            )
        return cls(p)

    # ------------------------------------------------------------------ writing
    def _prepare(self) -> None:
        self.tasks_dir.mkdir(parents=True, exist_ok=True)

    def check_writable(self, need_bytes: int = 1 << 16) -> None:
        """Fail early: the directory exists or can be created, is writable, and has room.

        Creates the directory, then writes and removes a probe file of ``need_bytes``
        (about one task file and its manifest line).

        Raises:
            BanditlabError: One line naming the directory and the reason.
        """
        from banditlab.errors import BanditlabError

        where = f"results_dir: {str(self.root)!r}"
        if self.root.exists() and not self.root.is_dir():
            raise BanditlabError(f"{where} exists and is not a directory")
        existed = self.root.is_dir()
        try:
            self._prepare()
        except OSError as exc:
            what = "is not writable" if existed else "cannot be created"
            raise BanditlabError(f"{where} {what} ({_strerror(exc)})") from None
        try:
            free = shutil.disk_usage(self.tasks_dir).free
        except OSError:  # pragma: no cover - statvfs unsupported
            free = None
        if free is not None and free < need_bytes:
            raise BanditlabError(
                f"{where} has {free // 1024} KiB free; a task needs about "
                f"{-(-need_bytes // 1024)} KiB (No space left on device)"
            )
        probe = self.tasks_dir / f".probe-{os.getpid()}-{uuid.uuid4().hex}"
        try:
            with open(probe, "wb") as f:
                f.write(b"\0" * need_bytes)
                f.flush()
        except OSError as exc:
            raise BanditlabError(f"{where} is not writable ({_strerror(exc)})") from None
        finally:
            try:
                probe.unlink(missing_ok=True)
            except OSError:
                pass

    @contextlib.contextmanager
    def lock(self):
        """Hold the directory's write lock (``flock`` on ``.lock``) for the ``with`` block.

        A second run into the same directory is refused at once instead of running
        every task again. ``flock`` is advisory and local to a machine (no lock over
        NFS between hosts); without ``fcntl`` (Windows) there is no lock.

        Raises:
            BanditlabError: One line when another process holds the lock.
        """
        from banditlab.errors import BanditlabError

        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock on this platform
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                raise BanditlabError(
                    f"results_dir: another banditlab run ({holder}) is writing to "
                    f"{str(self.root)!r}; wait for it to finish, or pass another --out"
                ) from None
            except OSError as exc:  # a file system without flock (some network mounts)
                warnings.warn(f"results: cannot lock {str(self.root)!r} ({_strerror(exc)}); "
                              "a concurrent run into it would not be detected", stacklevel=3)
                yield
                return
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {platform.node()}\n".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def write(self, result: RunResult) -> None:
        """Write one task (see :meth:`write_many`)."""
        self.write_many([result])

    def write_many(self, results: Sequence[RunResult]) -> None:
        """Write tasks as one Parquet file atomically, then commit each with a manifest line.

        The file is written to a temporary name and renamed; then one manifest line
        per task (naming the file and its SHA-256) is appended in a single write. A
        crash before the append leaves an unlisted file (its tasks are recomputed); a
        torn append commits the tasks whose lines are complete. A work unit of many
        tasks costs one file, not one per task (see :meth:`Results.to_frame` for
        reading such files).

        Args:
            results: Results of distinct tasks.
        """
        if results:
            self.commit_lines([w.line for w in self.write_file(results)])

    def commit_lines(self, lines: Sequence[str]) -> None:
        """Commit tasks written by :meth:`write_file`: append their manifest lines in one write."""
        if lines:
            _append_line(self.manifest_path, "\n".join(lines), self.durable)

    def write_file(self, results: Sequence[RunResult], *, unique: bool = False
                   ) -> list[WrittenTask]:
        """The first half of :meth:`write_many`: the Parquet file, not the manifest lines.

        Local worker processes call it on their own results (the file is in place,
        complete, before anything names it) and send back only the manifest lines,
        which the process holding the store's lock appends with :meth:`commit_lines`:
        the manifest stays the single commit point, and task data never passes
        through that process.

        Args:
            results: Results of distinct tasks (not empty).
            unique: Name the file ``batch-<uuid>.parquet`` even for one task (else a
                single task's file is ``<task_id>.parquet``), so that two copies of
                a unit never write the same path.

        Returns:
            One :class:`WrittenTask` per result, in order.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._prepare()
        task_ids, ts, metrics, values = [], [], [], []
        for result in results:
            cols = result.to_long_arrays()
            task_ids.append(np.full(len(cols["t"]), result.task_id, dtype=object))
            ts.append(cols["t"])
            metrics.append(cols["metric"])
            values.append(cols["value"])
        table = pa.table(
            {
                "task_id": pa.array(np.concatenate(task_ids), pa.string()),
                "t": pa.array(np.concatenate(ts), pa.int64()),
                "metric": pa.array(np.concatenate(metrics), pa.string()),
                "value": pa.array(np.concatenate(values), pa.float64()),
            }
        )
        name = (f"{results[0].task_id}.parquet" if len(results) == 1 and not unique
                else f"batch-{uuid.uuid4().hex}.parquet")
        final = self.tasks_dir / name
        # Created by the writer with mode 0666 & ~umask (mkstemp would force 0600).
        tmp = self.tasks_dir / f".tmp-{os.getpid()}-{uuid.uuid4().hex}.parquet"
        try:
            pq.write_table(table, tmp)
            if self.durable:
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        digest = _sha256_file(final)
        written = []
        for result in results:
            entry = result.metadata()
            entry.update(status="ok", file=f"tasks/{final.name}", sha256=digest)
            if self.experiment_digest is not None:
                entry["experiment"] = self.experiment_digest
            written.append(WrittenTask(result.task_id, json.dumps(
                entry, default=_json_default, sort_keys=True, allow_nan=True), str(final)))
        return written

    def write_error(self, task_meta: Mapping[str, Any], error: str, tb: str) -> None:
        """Record a task that raised (it will be retried by the next run)."""
        self._prepare()
        entry = dict(task_meta)
        entry.update(status="error", error=error, traceback=tb)
        if self.experiment_digest is not None:
            entry["experiment"] = self.experiment_digest
        self._append(entry)

    def _append(self, entry: Mapping[str, Any]) -> None:
        line = json.dumps(entry, default=_json_default, sort_keys=True, allow_nan=True)
        _append_line(self.manifest_path, line, self.durable)

    # ------------------------------------------------------------------ experiments
    def experiments(self) -> list[dict[str, Any]]:
        """The experiments run into this directory, oldest first (``experiments.jsonl``)."""
        return _read_jsonl(self.experiments_path)

    def current_task_ids(self) -> set[str] | None:
        """Task ids of the current (latest) experiment.

        ``None`` for a directory written before experiments were recorded (then
        every task counts as current).
        """
        records = self.experiments()
        return set(records[-1]["tasks"]) if records else None

    def conflict(self, tasks: Mapping[str, str]) -> str | None:
        """Why an experiment cannot reuse this directory, or ``None`` when it can.

        It can when no task of it has a different configuration under a run id
        already recorded here, and its tasks include the current experiment's tasks
        (an extension) or lie among them (a subset).

        Args:
            tasks: The experiment's ``{task_id: run_id}``.
        """
        recorded: dict[str, str] = {}
        for record in self.experiments():
            recorded.update(record["tasks"])
        for e in self.entries():
            recorded.setdefault(e["task_id"], e.get("run_id", "?"))
        if not recorded:
            return None
        run_ids: dict[str, set[str]] = {}
        for tid, rid in recorded.items():
            run_ids.setdefault(rid, set()).add(tid)
        for tid, rid in tasks.items():
            if tid not in recorded and rid in run_ids:
                return f"task {rid!r} has a different configuration here"
        current = self.current_task_ids()
        if current is None:
            current = set(recorded)
        new = set(tasks)
        if not (current <= new or new <= current):
            gone = sorted(recorded[t] for t in current - new)
            return (f"{len(gone)} of its {len(current)} current tasks are not in this "
                    f"experiment, e.g. {gone[0]!r}")
        return None

    def record_experiment(self, name: str, tasks: Mapping[str, str],
                          imports: Sequence[str] = (), import_path: Sequence[str] = (),
                          plot: Mapping[str, Any] | None = None) -> str:
        """Make an experiment the directory's current one; returns its digest.

        A line is appended to ``experiments.jsonl`` unless the current record already
        has these tasks, imports and plot defaults. Manifest lines written afterwards
        carry the digest.

        Args:
            name: The experiment's name.
            tasks: Its ``{task_id: run_id}``.
            imports: Its ``imports``.
            import_path: The directories its imports were resolved from.
            plot: The file's ``[plot]`` defaults (read by ``banditlab plot``).
        """
        key = _digest_ids(tasks)
        records = self.experiments()
        last = records[-1] if records else {}
        same = (last.get("experiment") == key and last.get("imports") == list(imports)
                and (last.get("plot") or {}) == dict(plot or {}))
        if not same:
            record = {
                "experiment": key,
                "generation": len(records) + 1,
                "name": name,
                "n_tasks": len(tasks),
                "tasks": dict(tasks),
                "imports": list(imports),
                "import_path": [str(p) for p in import_path],
                "plot": dict(plot or {}),
                "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "versions": package_versions(),
            }
            self.root.mkdir(parents=True, exist_ok=True)
            _append_line(self.experiments_path,
                         json.dumps(record, default=_json_default, sort_keys=True), self.durable)
        self.experiment_digest = key
        return key

    # ------------------------------------------------------------------ reading
    def entries(self) -> list[dict[str, Any]]:
        """Manifest task entries in order, pointing at the files that hold their rows now.

        A torn last line (a crash mid-append) is ignored; an invalid line anywhere
        else is ignored with a warning naming its line number. Compaction lines
        (:meth:`compact`) are not returned: the entries of the task files they replace
        name the compacted file and its checksum instead.
        """
        lines = _read_jsonl(self.manifest_path)
        moved: dict[str, tuple[str, str]] = {}
        for e in lines:
            if e.get("status") == "compacted":
                for name in e["replaces"]:
                    moved[name] = (e["file"], e["sha256"])
        if not moved:
            return lines
        out = []
        for e in lines:
            status = e.get("status")
            if status == "compacted":
                continue
            if status == "ok" and e["file"] in moved:
                e = dict(e)
                while e["file"] in moved:  # a compacted file may be compacted again
                    e["file"], e["sha256"] = moved[e["file"]]
            out.append(e)
        return out

    def compact(self, min_files: int = COMPACT_MIN_FILES) -> int:
        """Merge the task files into one Parquet file when there are at least ``min_files``.

        Loading then reads one file instead of one per work unit (a sweep of 10^5
        tiny tasks writes thousands). Crash-safe like :meth:`write_many`: the merged
        file is written under a temporary name and renamed, then one manifest line
        (``status = "compacted"``, the new file, its SHA-256 and the files it
        replaces) commits it, and only then are the old files deleted. A crash before
        the line leaves an unused file; a crash after it leaves unused old files.
        Rows are kept as they are, including rows of tasks that are no longer
        current (the loader filters them, as before), in the order the tidy frame
        reads them, except older copies of a task committed again (a forced rerun):
        only the copy its last entry names is kept.

        Below ``min_files`` files in ``tasks/`` it returns at once, without reading the
        manifest. Otherwise it first removes the files that no manifest line names:
        left by a crash, or written by a worker for a copy of a unit that was committed
        from another copy. Call it only while holding the directory's lock with no
        write in flight (:func:`banditlab.harness.run_experiment` calls it at the end
        of a sweep).

        Args:
            min_files: Do nothing below this many task files.

        Returns:
            The number of files merged (0 when nothing was done).
        """
        import pyarrow as pa
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        if not self.tasks_dir.is_dir() or len(os.listdir(self.tasks_dir)) < max(2, min_files):
            return 0
        entries = [e for e in self.entries() if e.get("status") == "ok"]
        by_file: dict[str, list[dict[str, Any]]] = {}
        for e in entries:
            by_file.setdefault(e["file"], []).append(e)
        for path in self.tasks_dir.iterdir():
            if f"tasks/{path.name}" not in by_file:
                with contextlib.suppress(OSError):
                    path.unlink()
        names = [n for n in by_file if (self.root / n).exists()]
        if len(names) < max(2, min_files):
            return 0
        names.sort(key=lambda n: min(_frame_key(e) for e in by_file[n]))
        # A task committed more than once (a forced rerun, or both copies of a unit run
        # twice) has rows in several files: only its last entry's file keeps them here,
        # so that every row of the merged file is that of its task's current copy.
        latest = {e["task_id"]: e["file"] for e in entries}
        stale = {n: {e["task_id"] for e in by_file[n] if latest[e["task_id"]] != n}
                 for n in names}
        pool = pa.system_memory_pool()  # see _tidy_frame
        schema = _task_schema()
        clean = [str(self.root / n) for n in names if not stale[n]]
        tables = [ds.dataset(clean, format="parquet", schema=schema).to_table(
            memory_pool=pool)] if clean else []
        for n in names:
            if stale[n]:
                keep = ~ds.field("task_id").isin(pa.array(sorted(stale[n]), pa.string()))
                tables.append(ds.dataset(str(self.root / n), format="parquet", schema=schema)
                              .to_table(filter=keep, memory_pool=pool))
        table = pa.concat_tables(tables, memory_pool=pool)
        final = self.tasks_dir / f"compact-{uuid.uuid4().hex}.parquet"
        tmp = self.tasks_dir / f".tmp-{os.getpid()}-{uuid.uuid4().hex}.parquet"
        try:
            pq.write_table(table, tmp, row_group_size=1 << 20)
            if self.durable:
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._append({"status": "compacted", "file": f"tasks/{final.name}",
                      "sha256": _sha256_file(final), "replaces": names})
        for name in names:
            with contextlib.suppress(OSError):
                (self.root / name).unlink()
        return len(names)

    def committed(self, verify: bool = True, only: Iterable[str] | None = None,
                  entries: Sequence[Mapping[str, Any]] | None = None,
                  ) -> dict[str, dict[str, Any]]:
        """Valid committed tasks by task id (last ok entry wins).

        Args:
            verify: Check every file's SHA-256 against its manifest entry; a
                missing or corrupted file is reported with a warning and left
                out, so the next run recomputes it.
            only: Restrict to these task ids (others are neither read nor verified).
            entries: The manifest entries, when the caller has read them already.
        """
        ok: dict[str, dict[str, Any]] = {}
        for e in self.entries() if entries is None else entries:
            if e.get("status") == "ok":
                ok[e["task_id"]] = e
            elif e.get("status") == "error":
                ok.pop(e["task_id"], None)
        if only is not None:
            keep = set(only)
            ok = {tid: e for tid, e in ok.items() if tid in keep}
        if not verify:
            return ok
        valid = {}
        digests: dict[str, str | None] = {}  # one check per file (a file holds a unit's tasks)
        for tid, e in ok.items():
            name = e["file"]
            if name not in digests:
                path = self.root / name
                digests[name] = _sha256_file(path) if path.exists() else None
                if digests[name] is None:
                    warnings.warn(f"results: task file {name} is missing; its tasks will be "
                                  "recomputed", stacklevel=2)
                elif digests[name] != e["sha256"]:
                    warnings.warn(
                        f"results: task file {name} fails its checksum (corrupted or "
                        "truncated); its tasks are ignored and will be recomputed",
                        stacklevel=2,
                    )
            if digests[name] is not None and digests[name] == e["sha256"]:
                valid[tid] = e
        return valid

    def errors(self) -> dict[str, dict[str, Any]]:
        """Tasks whose latest manifest entry is an error."""
        latest: dict[str, dict[str, Any]] = {}
        for e in self.entries():
            latest[e["task_id"]] = e
        return {k: v for k, v in latest.items() if v.get("status") == "error"}


def _frame_key(e: Mapping[str, Any]) -> tuple:
    """Where a task's rows sit in the tidy frame (its sort key)."""
    return (e.get("env_label", e["env_id"]), e["agent_label"], int(e["seed_index"]),
            e["task_id"])


def _digest_ids(tasks: Iterable[str]) -> str:
    """Digest of an experiment: SHA-256 over its sorted task ids (16 hex)."""
    h = hashlib.sha256()
    for tid in sorted(tasks):
        h.update(tid.encode() + b"\n")
    return h.hexdigest()[:16]


def _task_schema():
    """Schema of the task files: ``task_id, t, metric, value``."""
    import pyarrow as pa

    return pa.schema([("task_id", pa.string()), ("t", pa.int64()),
                      ("metric", pa.string()), ("value", pa.float64())])


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Lines of a JSONL file; a torn last line is ignored, any other bad line warned about."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    # Fast path: one parse of all lines as a JSON array (a sixth faster than a call per
    # line at 10^5 lines); used only if it yields one object per line, else the lines
    # are parsed one by one, which finds the bad ones.
    kept = [line for line in lines if line.strip()]
    try:
        parsed = json.loads("[" + ",".join(kept) + "]")
    except json.JSONDecodeError:
        parsed = None
    if (parsed is not None and len(parsed) == len(kept)
            and all(isinstance(e, dict) for e in parsed)):
        return parsed
    out = []
    for i, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i < len(lines) - 1:
                warnings.warn(
                    f"results: {path.name} line {i + 1} is torn or not valid JSON; it is "
                    "ignored (a task it committed will be recomputed)",
                    stacklevel=3,
                )
    return out


class Results:
    """All committed results of a results directory.

    Args:
        entries: Committed manifest entries by task id.
        root: The results directory.
    """

    def __init__(self, entries: Mapping[str, Mapping[str, Any]], root: Path,
                 superseded_files: Iterable[str] = (), exact_files: Iterable[str] = ()):
        self.entries = dict(entries)
        self.root = Path(root)
        self.superseded_files = set(superseded_files)
        """Files that also hold rows of tasks committed again in another file (``--force``)."""
        self.exact_files = set(exact_files) - self.superseded_files
        """Files holding only tasks committed to them (read without a row filter)."""

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
        The task files are read in one ``pyarrow.dataset`` call and the rows are put in
        order by whole task blocks (each task's rows are stored in ``(metric, t)``
        order), so loading stays linear in the number of rows
        (``benchmarks/bench_store.py`` times 10^5 tasks).
        """
        import pandas as pd
        import pyarrow.dataset as ds

        if not self.entries:
            return pd.DataFrame({c: [] for c in FRAME_COLUMNS})
        import pyarrow as pa

        pool = pa.system_memory_pool()  # see _tidy_frame
        schema = _task_schema()
        by_file: dict[str, list[str]] = {}
        for tid, e in self.entries.items():
            by_file.setdefault(e["file"], []).append(tid)
        # A file holds the tasks of one work unit: keep the rows of tasks committed to
        # it (it may also hold tasks of another experiment, or tasks rerun since).
        # Files in the order of their first task in the sorted frame: a unit's tasks are
        # consecutive seeds of one (env, agent) pair, so the rows then arrive in order and
        # the reordering below is the identity (no copy of the row columns).
        def first_key(name: str):
            return min(_frame_key(self.entries[tid]) for tid in by_file[name])

        exact = sorted((f for f in by_file if f in self.exact_files), key=first_key)
        bulk = sorted((f for f in by_file if f not in self.superseded_files
                       and f not in self.exact_files), key=first_key)
        tables = []
        if exact:
            tables.append(ds.dataset([str(self.root / f) for f in exact], format="parquet",
                                     schema=schema).to_table(memory_pool=pool))
        if bulk:
            keep = ds.field("task_id").isin(pa.array(list(self.entries), pa.string()))
            tables.append(ds.dataset([str(self.root / f) for f in bulk], format="parquet",
                                     schema=schema).to_table(filter=keep, memory_pool=pool))
        for name in sorted(set(by_file) & self.superseded_files):
            keep = ds.field("task_id").isin(pa.array(by_file[name], pa.string()))
            tables.append(ds.dataset(str(self.root / name), format="parquet",
                                     schema=schema).to_table(filter=keep, memory_pool=pool))
        table = pa.concat_tables(tables, memory_pool=pool)
        return _tidy_frame(table, self.entries)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Export the tidy frame as CSV."""
        self.to_frame().to_csv(path, index=False)


def _tidy_frame(table, entries: Mapping[str, Mapping[str, Any]]):
    """The sorted tidy frame from the task rows (``task_id, t, metric, value``) and entries."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = list(entries)
    meta = {
        "task_id": ids,
        "run_id": [entries[t]["run_id"] for t in ids],
        "env_id": [entries[t]["env_id"] for t in ids],
        "env_label": [entries[t].get("env_label", entries[t]["env_id"]) for t in ids],
        "agent_id": [entries[t]["agent_id"] for t in ids],
        "agent_label": [entries[t]["agent_label"] for t in ids],
    }
    seed_index = np.array([int(entries[t]["seed_index"]) for t in ids], dtype=np.int64)
    # Row -> entry index, metric -> rank among the metric names (sorted as Python sorts).
    row_task = pc.index_in(table["task_id"], value_set=pa.array(ids, pa.string()))
    row_task = row_task.to_numpy(zero_copy_only=False).astype(np.int64)
    metric_enc = pc.dictionary_encode(table["metric"]).combine_chunks()
    names = metric_enc.dictionary.to_pylist()
    rank_of = np.argsort(np.argsort(np.array(names, dtype=object)))
    metric_codes = metric_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    row_metric = rank_of[metric_codes] if len(names) else metric_codes
    row_t = table["t"].to_numpy()
    # Entry order: (env_label, agent_label, seed_index, task_id).
    entry_order = np.lexsort((np.array(ids, dtype=object), seed_index,
                             np.array(meta["agent_label"], dtype=object),
                             np.array(meta["env_label"], dtype=object)))
    perm = _block_permutation(row_task, row_metric, row_t, entry_order, meta, seed_index)
    if perm is None:  # tasks sharing (env, agent, seed) labels, or rows out of order
        entry_rank = np.empty(len(ids), dtype=np.int64)
        entry_rank[entry_order] = np.arange(len(ids))
        group = np.unique(np.stack([np.unique(np.array(meta["env_label"], dtype=object),
                                              return_inverse=True)[1],
                                    np.unique(np.array(meta["agent_label"], dtype=object),
                                              return_inverse=True)[1],
                                    seed_index]), axis=1, return_inverse=True)[1].ravel()
        perm = np.lexsort((entry_rank[row_task], row_t, row_metric, group[row_task]))
    rows = pa.array(row_task[perm])
    # The row columns (about 100 MB each at 10^5 tasks) are allocated from the system
    # allocator: Arrow's default mimalloc pool returns freed memory to the OS and faults
    # it in again, which made a first load 2-3x slower (benchmarks/bench_store.py).
    # Text columns are large_string: pandas' pyarrow-backed string dtype stores that
    # type, so the frame wraps them without a copy (a string column would be cast, i.e.
    # copied). Object-dtype pandas gets the same values.
    pool = pa.system_memory_pool()
    columns = {name: pc.take(pa.array(values, pa.large_string(), memory_pool=pool), rows,
                             memory_pool=pool)
               for name, values in meta.items()}
    columns["seed_index"] = pc.take(pa.array(seed_index), rows, memory_pool=pool)
    identity = bool(np.array_equal(perm, np.arange(perm.shape[0])))
    for name in ("t", "metric", "value"):
        columns[name] = (table[name] if identity
                         else pc.take(table[name], pa.array(perm), memory_pool=pool))
    columns["metric"] = pc.cast(columns["metric"], pa.large_string(), memory_pool=pool)
    frame = pa.table({c: columns[c] for c in FRAME_COLUMNS}).to_pandas(memory_pool=pool)
    return frame if len(frame) else pd.DataFrame({c: [] for c in FRAME_COLUMNS})


def _block_permutation(row_task, row_metric, row_t, entry_order, meta, seed_index):
    """Row order by whole task blocks, or ``None`` when that order is not the sorted one.

    Each task's rows must be one contiguous block, in ``(metric, t)`` order (how tasks
    are written), and no two tasks may share ``(env_label, agent_label, seed_index)``
    (otherwise their rows interleave in the sorted frame).
    """
    n = row_task.shape[0]
    if n == 0:
        return np.arange(0)
    key = list(zip(meta["env_label"], meta["agent_label"], seed_index.tolist(), strict=True))
    if len(set(key)) != len(key):
        return None
    starts = np.flatnonzero(np.r_[True, row_task[1:] != row_task[:-1]])
    block_task = row_task[starts]
    if np.unique(block_task).shape[0] != block_task.shape[0]:
        return None  # a task's rows are not contiguous
    same = row_task[1:] == row_task[:-1]
    ordered = (row_metric[1:] > row_metric[:-1]) | (
        (row_metric[1:] == row_metric[:-1]) & (row_t[1:] > row_t[:-1]))
    if not np.all(ordered | ~same):
        return None
    lengths = np.diff(np.r_[starts, n])
    position = np.empty(len(meta["run_id"]), dtype=np.int64)
    position[entry_order] = np.arange(len(entry_order))
    order = np.argsort(position[block_task], kind="stable")
    starts, lengths = starts[order], lengths[order]
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(n) + offsets


def load_results(results_dir: str | os.PathLike, *, verify: bool = True,
                 all_tasks: bool = False) -> Results:
    """Load the committed tasks of a results directory's current experiment.

    Args:
        results_dir: Directory written by :func:`banditlab.harness.run_experiment`.
        verify: Check file checksums (corrupted files are reported and left out).
        all_tasks: Include tasks of earlier experiments run into the directory
            (default: only those of the current, i.e. latest, experiment; see the
            module docstring).

    Returns:
        A :class:`Results`; ``.to_frame()`` gives the tidy table.

    Raises:
        BanditlabError: One line when the directory does not exist or holds no results.
    """
    store = ResultStore.existing(results_dir)
    only = None if all_tasks else store.current_task_ids()
    entries = store.entries()
    committed = store.committed(verify=verify, only=only, entries=entries)
    superseded, foreign = set(), set()
    for e in entries:
        if e.get("status") != "ok":
            continue
        held = committed.get(e["task_id"])
        if held is None:
            foreign.add(e["file"])  # holds a task that is not loaded
        elif held["file"] != e["file"]:
            superseded.add(e["file"])  # holds an older copy of a loaded task
    exact = {e["file"] for e in committed.values()} - foreign - superseded
    return Results(committed, store.root, superseded, exact)


def iter_frames(dirs: Iterable[str | os.PathLike]):
    """Concatenate the tidy frames of several results directories."""
    import pandas as pd

    return pd.concat([load_results(d).to_frame() for d in dirs], ignore_index=True)
