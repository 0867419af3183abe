"""`Record`: a small stand-in for @dataclass on the start-up paths.

`dataclasses` imports `inspect` (and with it ast, dis, tokenize...), which costs
about 10 ms on every `hull images` or `hull ps`: a third of the budget those
benchmarks have.  Record gives the part of a dataclass these paths use: an
__init__ built from the class annotations (positional or keyword, with
defaults), equality and repr over the public fields, and `as_dict()`.

    class Summary(Record):
        id: str
        names: list[str] = Factory(list)

Fields whose name starts with "_" take part in __init__ but not in ==, repr or
as_dict (dataclass's compare=False/repr=False).  `class Pair(Record, frozen=True)`
is read-only and hashable (dataclass's frozen=True).  `DataRecord` also works with
the dataclasses API.  Use @dataclass elsewhere.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


class Factory:
    """A default made fresh for every instance (dataclass's default_factory)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


class Record:
    _fields: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}

    def __init_subclass__(cls, frozen: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if frozen:
            cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
            cls.__delattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
            cls.__hash__ = _frozen_hash  # type: ignore[method-assign,assignment]
        fields: list[str] = []
        defaults: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("__annotations__", {}):
                if name in ("_fields", "_defaults"):
                    continue
                if name not in fields:
                    fields.append(name)
                if name in klass.__dict__:
                    defaults[name] = klass.__dict__[name]
        cls._fields = tuple(fields)
        cls._defaults = defaults

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} arguments, {len(args)} given")
        put = object.__setattr__  # also for frozen records
        for name, value in zip(fields, args):
            put(self, name, value)
        for name in fields[len(args):]:
            if name in kwargs:
                value = kwargs.pop(name)
            elif name in self._defaults:
                value = self._defaults[name]
                if isinstance(value, Factory):
                    value = value.make()
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
            put(self, name, value)
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(kwargs)}")

    def replace(self, **changes: Any) -> Any:
        """A copy with `changes` (dataclasses.replace)."""
        values = {n: getattr(self, n) for n in self._fields}
        values.update(changes)
        return type(self)(**values)

    def _public(self) -> list[str]:
        return [n for n in self._fields if not n.startswith("_")]

    def as_dict(self) -> dict[str, Any]:
        """Public fields as a dict (nested Records too), like dataclasses.asdict."""
        def plain(value: Any) -> Any:
            if isinstance(value, Record):
                return value.as_dict()
            if isinstance(value, (list, tuple)):
                return type(value)(plain(v) for v in value)
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return {n: plain(getattr(self, n)) for n in self._public()}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._public())

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._public())
        return f"{type(self).__name__}({inner})"


class _DataclassFields:
    """A class's `__dataclass_fields__`, made on first access from a @dataclass twin
    with the same annotations and defaults: only code that uses the dataclasses API
    pays for importing it."""

    def __get__(self, obj: Any, owner: type) -> Any:
        import dataclasses

        notes: dict[str, Any] = {}
        for klass in reversed(owner.__mro__):
            notes.update(klass.__dict__.get("__annotations__", {}))
        ns: dict[str, Any] = {"__annotations__": {n: notes[n] for n in owner._fields}}  # type: ignore[attr-defined]
        for name, value in owner._defaults.items():  # type: ignore[attr-defined]
            ns[name] = dataclasses.field(default_factory=value.make) if isinstance(value, Factory) else value
        fields = dataclasses.dataclass(type(owner.__name__, (), ns)).__dataclass_fields__
        owner.__dataclass_fields__ = fields  # type: ignore[attr-defined]
        return fields


class DataRecord(Record):
    """A Record that the dataclasses API (`dataclasses.replace`, `asdict`, `fields`,
    `is_dataclass`) and code that looks for `__dataclass_fields__` accept too: for
    classes that left @dataclass for the start-up path while other code still treats
    them as dataclasses.  The fields are built (and dataclasses imported) on first use."""

    __dataclass_fields__ = _DataclassFields()


def _frozen_setattr(self: Record, name: str, *_value: Any) -> None:
    raise AttributeError(f"cannot assign to field {name!r} of frozen {type(self).__name__}")


def _frozen_hash(self: Record) -> int:
    return hash(tuple(getattr(self, n) for n in self._public()))
