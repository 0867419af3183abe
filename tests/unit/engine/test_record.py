import subprocess
import sys

import pytest

from engine.record import Factory, Record


class Base(Record):
    id: str
    names: list[str] = Factory(list)
    size: int = 0
    _cache: dict | None = None


class Child(Base):
    extra: bool = False


def test_positional_keyword_and_defaults():
    a = Base("x", size=3)
    assert (a.id, a.names, a.size, a._cache) == ("x", [], 3, None)
    b = Base(id="x", names=["n"])
    assert b.names == ["n"] and b.size == 0


def test_factory_gives_each_instance_its_own_value():
    a, b = Base("a"), Base("b")
    a.names.append("n")
    assert b.names == []


def test_inherited_fields_come_first():
    c = Child("x", ["n"], 1, None, True)
    assert (c.id, c.extra) == ("x", True)


def test_errors_like_a_dataclass():
    with pytest.raises(TypeError):
        Base()
    with pytest.raises(TypeError):
        Base("x", bogus=1)
    with pytest.raises(TypeError):
        Base("a", [], 0, None, "too many")


def test_private_fields_stay_out_of_eq_repr_and_dict():
    a, b = Base("x", _cache={"k": 1}), Base("x")
    assert a == b
    assert "_cache" not in repr(a)
    assert a.as_dict() == {"id": "x", "names": [], "size": 0}
    assert Base("x") != Base("y")


def test_importing_it_does_not_import_dataclasses_or_inspect():
    code = "import sys, engine.record; print('dataclasses' in sys.modules, 'inspect' in sys.modules)"
    out = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, '.'); {code}"],
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
