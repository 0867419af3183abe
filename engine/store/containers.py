"""Container records: one row per container in the state DB plus its directories.

The row holds what `ps` and `inspect` show without touching the runtime (state,
pids, exit code, times, the ContainerOptions as JSON); the directories hold the
bundle (`{root}/containers/<id>/userdata`), the overlay upper/work dirs, and the
runtime files under `{runroot}/containers/<id>` that a reboot wipes.

State changes go through `transition()`, which checks `ContainerState.can_go_to`
inside the write transaction, so two hull processes racing (stop vs. the
monitor recording the exit) never produce an illegal state.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from enum import Enum
from pathlib import Path
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any

from engine.config import EngineConfig
from engine.errors import Conflict, ContainerNotFound, InvalidArgument
from engine.record import Factory, Record
from engine.store.db import StateDB, storage_errors

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
ID_RE = re.compile(r"^[0-9a-f]{64}$")


class ContainerState(str, Enum):
    CONFIGURED = "configured"
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    EXITED = "exited"
    REMOVING = "removing"

    def can_go_to(self, new: "ContainerState") -> bool:
        return new in _LEGAL[self]

    @property
    def active(self) -> bool:
        """A monitor is (supposed to be) looking after the container."""
        return self in (ContainerState.RUNNING, ContainerState.PAUSED)


S = ContainerState
_LEGAL: dict[ContainerState, frozenset[ContainerState]] = {
    S.CONFIGURED: frozenset({S.CREATED, S.REMOVING}),
    # created -> exited: the monitor failed to start it (or it ran and ended at once)
    S.CREATED: frozenset({S.CREATED, S.RUNNING, S.EXITED, S.STOPPED, S.REMOVING}),
    S.RUNNING: frozenset({S.RUNNING, S.PAUSED, S.STOPPED, S.EXITED}),
    S.PAUSED: frozenset({S.PAUSED, S.RUNNING, S.STOPPED, S.EXITED}),
    S.STOPPED: frozenset({S.STOPPED, S.RUNNING, S.EXITED, S.CREATED, S.REMOVING}),
    S.EXITED: frozenset({S.EXITED, S.RUNNING, S.CREATED, S.REMOVING}),
    S.REMOVING: frozenset({S.REMOVING}),
}


class Container(Record):  # a Record: `hull ps` imports this, dataclasses costs ~10 ms
    id: str
    name: str
    image_id: str | None
    image_name: str
    created: float
    state: ContainerState
    pid: int = 0
    monitor_pid: int = 0
    exit_code: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0
    restart_count: int = 0
    health: str = ""
    health_log: list[dict] = Factory(list)
    failing_streak: int = 0
    stopped_by_user: bool = False
    oom_killed: bool = False
    error: str = ""
    pod: str = ""
    labels: dict[str, str] = Factory(dict)
    command: list[str] = Factory(list)
    options: dict[str, Any] = Factory(dict)
    spec_path: str = ""
    mounted: int = 0
    runtime: str = ""

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def option(self, key: str, default: Any = None) -> Any:
        """One of the creation options (ListedContainer answers without decoding them all)."""
        return (self.options or {}).get(key, default)


_FIELDS = {
    "pid", "monitor_pid", "exit_code", "started_at", "finished_at", "restart_count", "health",
    "health_log", "failing_streak", "stopped_by_user", "oom_killed", "error", "pod", "labels",
    "command", "options", "spec_path", "mounted", "image_id", "image_name", "runtime",
}
_JSON_FIELDS = {"health_log", "labels", "command", "options"}


def _row(row: sqlite3.Row) -> Container:
    return Container(
        id=row["id"], name=row["name"], image_id=row["image_id"], image_name=row["image_name"],
        created=row["created"], state=ContainerState(row["state"]), pid=row["pid"],
        monitor_pid=row["monitor_pid"], exit_code=row["exit_code"], started_at=row["started_at"],
        finished_at=row["finished_at"], restart_count=row["restart_count"], health=row["health"],
        health_log=json.loads(row["health_log"]), failing_streak=row["failing_streak"],
        stopped_by_user=bool(row["stopped_by_user"]), oom_killed=bool(row["oom_killed"]),
        error=row["error"], pod=row["pod"], labels=json.loads(row["labels"]),
        command=json.loads(row["command"]), options=json.loads(row["options"]),
        spec_path=row["spec_path"], mounted=row["mounted"], runtime=row["runtime"],
    )


class _Lazy:
    """A JSON column decoded on first read (then kept in the instance, which this
    non-data descriptor yields to): `ps` never reads a listed row's options."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = json.loads(obj.__dict__["_raw_" + self.name])
        return value


class ListedContainer(Container):
    """A row of `ContainerStore.listing()`: a Container whose options and health log are
    decoded only when read; `option()` answers the keys a listing needs from values
    SQLite extracted.  Read-only: the store hands the same objects to later listings
    while the database is unchanged."""

    options = _Lazy("options")  # type: ignore[assignment]
    health_log = _Lazy("health_log")  # type: ignore[assignment]

    def option(self, key: str, default: Any = None) -> Any:
        extracted = self.__dict__.get("_extracted")
        if extracted is None or key not in extracted:
            return super().option(key, default)
        value = extracted[key]
        if value is None:
            return default
        if key in _LISTED_JSON:
            return [] if value == "[]" else json.loads(value)
        return value


# What the listings read from the options (SQLite's json_extract: text for arrays and
# objects, 0/1 for booleans, NULL when absent).
_LISTED_OPTIONS = ("mounts", "publish", "rm", "network", "network_arg")
_LISTED_JSON = frozenset({"mounts", "publish"})
_LISTED_COLUMNS = (
    "id", "name", "image_id", "image_name", "created", "state", "pid", "monitor_pid", "exit_code",
    "started_at", "finished_at", "restart_count", "health", "_raw_health_log", "failing_streak",
    "stopped_by_user", "oom_killed", "error", "pod", "labels", "command", "_raw_options", "spec_path",
    "mounted", "runtime")
_LISTING_SQL = (
    "SELECT " + ", ".join(n.removeprefix("_raw_") for n in _LISTED_COLUMNS) + ", "
    + ", ".join(f"json_extract(options, '$.{k}')" for k in _LISTED_OPTIONS)
    + " FROM containers ORDER BY created DESC, rowid DESC")
_STATES = {s.value: s for s in ContainerState}


def _listed(row: tuple) -> ListedContainer:
    """A ListedContainer straight from a `_LISTING_SQL` row: no Record.__init__, and
    only the small JSON columns (labels, command) decoded now."""
    c = ListedContainer.__new__(ListedContainer)
    d = c.__dict__
    d.update(zip(_LISTED_COLUMNS, row))
    n = len(_LISTED_COLUMNS)
    d["_extracted"] = dict(zip(_LISTED_OPTIONS, row[n:]))
    d["state"] = _STATES[d["state"]]
    d["stopped_by_user"] = bool(d["stopped_by_user"])
    d["oom_killed"] = bool(d["oom_killed"])
    labels = d["labels"]
    d["labels"] = {} if labels == "{}" else json.loads(labels)
    d["command"] = json.loads(d["command"])
    return c


def _encode(key: str, value: Any) -> Any:
    if key in _JSON_FIELDS:
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return value


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise InvalidArgument(f"names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: {name!r}: invalid argument")
    return name


def name_in_use(name: str, cid: str, prefix: str = "") -> Conflict:
    return Conflict(
        f'{prefix}the container name "{name}" is already in use by {cid}. You have to remove that container '
        "to be able to reuse that name: that name is already in use"
    )


# Docker's namesgenerator, abridged: adjective_surname.
_ADJECTIVES = (
    "admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold boring "
    "brave busy charming clever compassionate competent condescending confident cool cranky crazy "
    "dazzling determined distracted dreamy eager ecstatic elastic elated elegant eloquent epic "
    "exciting fervent festive flamboyant focused friendly frosty funny gallant gifted goofy gracious "
    "great happy hardcore heuristic hopeful hungry infallible inspiring intelligent interesting "
    "jolly jovial keen kind laughing loving lucid magical modest musing mystifying naughty nervous "
    "nice nifty nostalgic objective optimistic peaceful pedantic pensive practical priceless quirky "
    "quizzical recursing relaxed reverent romantic sad serene sharp silly sleepy stoic strange "
    "stupefied suspicious sweet tender thirsty trusting unruffled upbeat vibrant vigilant vigorous "
    "wizardly wonderful xenodochial youthful zealous zen"
).split()
_SURNAMES = (
    "agnesi albattani allen almeida antonelli archimedes ardinghelli aryabhata austin babbage banach "
    "bardeen bartik bassi beaver bell benz bhabha bhaskara black blackburn blackwell bohr booth borg "
    "bose bouman boyd brahmagupta brattain brown buck burnell cannon carson cartwright carver cerf "
    "chandrasekhar chaplygin chatelet chatterjee chebyshev clarke cohen colden cori cray curie "
    "darwin davinci dewdney dhawan diffie dijkstra dirac driscoll dubinsky easley edison einstein "
    "elbakyan elgamal elion ellis engelbart euclid euler faraday feistel fermat fermi feynman "
    "franklin gagarin galileo galois ganguly gates gauss germain goldberg goldstine goldwasser golick "
    "goodall gould greider grothendieck haibt hamilton haslett hawking heisenberg hellman hermann "
    "herschel hertz heyrovsky hodgkin hofstadter hoover hopper hugle hypatia ishizaka jackson jang "
    "jemison jennings jepsen johnson joliot jones kalam kapitsa kare keldysh keller kepler khayyam "
    "khorana kilby kirch knuth kowalevski lalande lamarr lamport leakey leavitt lederberg lehmann "
    "lewin lichterman liskov lovelace lumiere mahavira margulis matsumoto maxwell mayer mccarthy "
    "mcclintock mclaren mclean mcnulty meitner mendel mendeleev merkle mestorf mirzakhani montalcini "
    "moore morse moser murdock napier nash neumann newton nightingale nobel noether northcutt noyce "
    "panini pare pascal pasteur payne perlman pike poincare poitras proskuriakova ptolemy raman "
    "ramanujan rhodes ride ritchie robinson roentgen rosalind rubin saha sammet sanderson satoshi "
    "shamir shannon shaw shirley shockley shtern sinoussi snyder solomon spence stonebraker "
    "sutherland swanson swartz swirles taussig tesla tharp thompson torvalds tu turing varahamihira "
    "vaughan villani visvesvaraya volhard wescoff wilbur wiles williams williamson wilson wing wozniak "
    "wright wu yalow yonath zhukovsky"
).split()


def random_name(rng: random.Random | None = None) -> str:
    if rng is None:  # SystemRandom's choice, without importing random (ms) on every create
        return f"{_urandom_choice(_ADJECTIVES)}_{_urandom_choice(_SURNAMES)}"
    return f"{rng.choice(_ADJECTIVES)}_{rng.choice(_SURNAMES)}"


def _urandom_choice(items: list[str]) -> str:
    """An unbiased pick from the kernel's random source (rejection sampling)."""
    limit = (1 << 32) - (1 << 32) % len(items)
    while True:
        n = int.from_bytes(os.urandom(4), "little")
        if n < limit:
            return items[n % len(items)]


class ContainerStore:
    def __init__(self, cfg: EngineConfig, db: StateDB) -> None:
        self.cfg = cfg
        self.db = db
        self._listing: tuple[tuple, list[ListedContainer]] | None = None  # see listing()

    # --- directories ---
    def dir(self, cid: str) -> Path:
        return self.cfg.containers_dir / cid

    def userdata(self, cid: str) -> Path:
        return self.dir(cid) / "userdata"

    def upper(self, cid: str) -> Path:
        return self.dir(cid) / "upper"

    def work(self, cid: str) -> Path:
        return self.dir(cid) / "work"

    def log_path(self, cid: str) -> Path:
        return self.dir(cid) / "ctr.log"

    def run_dir(self, cid: str) -> Path:
        return self.cfg.runroot / "containers" / cid

    def rootfs(self, cid: str) -> Path:
        return self.run_dir(cid) / "rootfs"

    def make_dirs(self, cid: str) -> None:
        """userdata, upper and work (0700 parent: the upper dir holds setuid files too)."""
        self.cfg.containers_dir.mkdir(mode=0o700, exist_ok=True)
        self.dir(cid).mkdir(mode=0o700, exist_ok=True)
        for sub in (self.userdata(cid), self.upper(cid), self.work(cid)):
            sub.mkdir(mode=0o755 if sub.name == "upper" else 0o700, exist_ok=True)

    def make_run_dir(self, cid: str) -> Path:
        (self.cfg.runroot / "containers").mkdir(mode=0o700, parents=True, exist_ok=True)
        run = self.run_dir(cid)
        run.mkdir(mode=0o700, exist_ok=True)
        self.rootfs(cid).mkdir(mode=0o755, exist_ok=True)
        return run

    # --- writing ---
    def new_id(self) -> str:
        while True:
            cid = os.urandom(32).hex()
            if not cid[:12].isdigit():  # Podman avoids all-digit short ids too (they look like pids)
                return cid

    def create(self, name: str | None, image_id: str | None, image_name: str, *,
               options: dict[str, Any] | None = None, labels: dict[str, str] | None = None,
               command: list[str] | None = None, pod: str = "", cid: str | None = None,
               runtime: str = "",
               state: ContainerState = ContainerState.CONFIGURED) -> Container:
        """Record a new container; a taken name raises Podman's "already in use" Conflict."""
        cid = cid or self.new_id()
        if not ID_RE.match(cid):
            raise InvalidArgument(f"invalid container ID {cid!r}")
        now = time.time()
        with self.db.transaction() as conn:
            if name is None:
                for _ in range(100):
                    name = random_name()
                    if conn.execute("SELECT 1 FROM containers WHERE name = ?", (name,)).fetchone() is None:
                        break
                else:  # practically never: fall back to a longer name
                    name = f"{random_name()}_{os.urandom(3).hex()}"
            check_name(name)
            taken = conn.execute("SELECT id FROM containers WHERE name = ?", (name,)).fetchone()
            if taken is not None:  # Podman's words come from c/storage, through libpod's create
                raise name_in_use(name, taken[0], "creating container storage: ")
            conn.execute(
                "INSERT INTO containers (id, name, image_id, image_name, created, state, labels, "
                "command, options, pod, runtime) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (cid, name, image_id, image_name, now, state.value, json.dumps(labels or {}, sort_keys=True),
                 json.dumps(command or []), json.dumps(options or {}, sort_keys=True), pod, runtime),
            )
        return self.get(cid)

    def update(self, cid: str, **fields: Any) -> Container:
        """Set columns other than the state (pids, health, spec path...)."""
        unknown = set(fields) - _FIELDS
        if unknown:
            raise InvalidArgument(f"unknown container fields {sorted(unknown)}")
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            with self.db.transaction() as conn:
                cur = conn.execute(f"UPDATE containers SET {sets} WHERE id = ?",
                                   [*(_encode(k, v) for k, v in fields.items()), cid])
                if cur.rowcount == 0:
                    raise ContainerNotFound(f"no container with ID {cid} found in database: no such container")
        return self.get(cid)

    def transition(self, cid: str, new: ContainerState, *, expect: set[ContainerState] | None = None,
                   **fields: Any) -> Container:
        """Move to `new` if that is legal from the current state (and the current
        state is in `expect`, when given); set `fields` in the same transaction."""
        unknown = set(fields) - _FIELDS
        if unknown:
            raise InvalidArgument(f"unknown container fields {sorted(unknown)}")
        with self.db.transaction() as conn:
            row = conn.execute("SELECT state, name FROM containers WHERE id = ?", (cid,)).fetchone()
            if row is None:
                raise ContainerNotFound(f"no container with ID {cid} found in database: no such container")
            current = ContainerState(row[0])
            if (expect is not None and current not in expect) or not current.can_go_to(new):
                raise Conflict(f"container {cid} is {current.value}, cannot move to {new.value}: "
                               "container state improper")
            sets = ", ".join(["state = ?", *(f"{k} = ?" for k in fields)])
            conn.execute(f"UPDATE containers SET {sets} WHERE id = ?",
                         [new.value, *(_encode(k, v) for k, v in fields.items()), cid])
        return self.get(cid)

    def rename(self, cid: str, new_name: str) -> Container:
        check_name(new_name)
        with self.db.transaction() as conn:
            taken = conn.execute("SELECT id FROM containers WHERE name = ?", (new_name,)).fetchone()
            if taken is not None and taken[0] != cid:
                raise name_in_use(new_name, taken[0])
            conn.execute("UPDATE containers SET name = ? WHERE id = ?", (new_name, cid))
        return self.get(cid)

    def increment(self, cid: str, column: str, by: int = 1) -> int:
        if column not in ("restart_count", "mounted", "failing_streak"):
            raise InvalidArgument(f"cannot increment {column}")
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE containers SET {column} = max(0, {column} + ?) WHERE id = ?", (by, cid))
            row = conn.execute(f"SELECT {column} FROM containers WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise ContainerNotFound(f"no container with ID {cid} found in database: no such container")
        return row[0]

    def delete(self, cid: str) -> None:
        """Drop the row (its volume references go with it); directories are the caller's."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM containers WHERE id = ?", (cid,))

    # --- reading ---
    def get(self, cid: str) -> Container:
        rows = self.db.query("SELECT * FROM containers WHERE id = ?", (cid,))
        if not rows:
            raise ContainerNotFound(f"no container with ID {cid} found in database: no such container")
        return _row(rows[0])

    def lookup(self, text: str) -> Container:
        """Exact name, full ID, then a unique ID prefix (Podman's order)."""
        if not text:
            raise ContainerNotFound("no container with name or ID \"\" found: no such container")
        rows = self.db.query("SELECT * FROM containers WHERE name = ? OR id = ?", (text, text))
        if rows:
            by_name = [r for r in rows if r["name"] == text]
            return _row(by_name[0] if by_name else rows[0])
        if re.fullmatch(r"[0-9a-f]+", text):
            rows = self.db.query("SELECT * FROM containers WHERE id >= ? AND id < ? LIMIT 2",
                                 (text, text + "g"))
            if len(rows) == 1:
                return _row(rows[0])
            if len(rows) > 1:
                raise InvalidArgument(f"more than one result for container ID {text}: container already exists")
        raise ContainerNotFound(f'no container with name or ID "{text}" found: no such container')

    def exists(self, text: str) -> bool:
        try:
            self.lookup(text)
            return True
        except ContainerNotFound:
            return False

    def list(self) -> list[Container]:
        """All containers, newest first."""
        return [_row(r) for r in self.db.query("SELECT * FROM containers ORDER BY created DESC, rowid DESC")]

    def listing(self) -> list[ListedContainer]:
        """All containers, newest first, for `ps` and the API's container list: built
        lean (see ListedContainer) and kept while the database is unchanged, which
        SQLite's data_version (commits by other connections) and this connection's
        total_changes (its own) tell; a long-lived reader (the API's spare child reads
        once ahead of its request) then answers from memory."""
        conn = self.db.read()
        with storage_errors(self.db.path):
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            key = (conn, version, conn.total_changes)
            cached = self._listing
            if cached is not None and cached[0] == key:
                return list(cached[1])
            rows = [_listed(r) for r in conn.execute(_LISTING_SQL).fetchall()]
        self._listing = (key, rows)
        return list(rows)

    def using_image(self, image_id: str) -> list[Container]:
        return [_row(r) for r in self.db.query("SELECT * FROM containers WHERE image_id = ?", (image_id,))]


def image_user_check(conn: sqlite3.Connection, image_id: str) -> str | None:
    """ImageStore.remove hook: an image stays while a container uses it."""
    row = conn.execute("SELECT id FROM containers WHERE image_id = ? LIMIT 1", (image_id,)).fetchone()
    return row[0] if row else None


def pid_starttime(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks), None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    try:
        return int(data.rsplit(b")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def read_pid_file(path: Path) -> tuple[int, int | None] | None:
    """`PID [STARTTIME]` as the monitor writes it; None when missing or malformed."""
    try:
        parts = path.read_text().split()
        pid = int(parts[0])
        start = int(parts[1]) if len(parts) > 1 else None
    except (OSError, ValueError, IndexError):
        return None
    return (pid, start) if pid > 0 else None


def pid_alive(pid: int, starttime: int | None) -> bool:
    """The process `pid` exists and (when known) is the one started at `starttime`."""
    if pid <= 0:
        return False
    current = pid_starttime(pid)
    if current is None:
        return False
    if starttime is not None and current != starttime:
        return False
    try:  # a zombie has a stat file but is gone for our purposes
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


__all__ = ["Container", "ContainerState", "ContainerStore", "ListedContainer", "check_name", "random_name",
           "image_user_check", "read_pid_file", "pid_alive", "pid_starttime"]
