"""The hybrid logical clock: every stamp it issues parses back, and stamps only move forward."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from havre_common.hlc import HybridLogicalClock, Timestamp

BASE_MS = 1_795_632_326_621
FULL = 0xFFFF

# No example database: the checkout stays clean and runs do not depend on earlier ones.
CHECKS = settings(max_examples=300, deadline=None, database=None)

nodes = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
counters = st.one_of(st.integers(FULL - 3, FULL), st.integers(0, FULL))
# Wall clock and remote stamps within a few milliseconds of each other: the counter carries.
near = st.integers(-2, 2)
# (operation, wall clock offset, remote stamp's offset, counter and node): now() ignores the last 3.
operations = st.lists(
    st.tuples(st.sampled_from(["now", "receive"]), near, near, counters, nodes), max_size=60
)


def test_a_full_counter_received_carries_into_the_next_millisecond() -> None:
    last = str(Timestamp(BASE_MS, FULL, "local"))
    clock = HybridLogicalClock("local", last=last, wall=lambda: BASE_MS)
    clock.receive(str(Timestamp(BASE_MS, FULL, "remote")))
    assert clock.last == f"{BASE_MS + 1:013d}-0000-local"
    assert Timestamp.parse(clock.now()) == Timestamp(BASE_MS + 1, 1, "local")


@CHECKS
@given(
    last=st.one_of(st.none(), st.tuples(near, counters)),
    operations=operations,
)
def test_every_stamp_issued_parses_and_is_later_than_all_before(
    last: tuple[int, int] | None,
    operations: list[tuple[str, int, int, int, str]],
) -> None:
    wall = [BASE_MS]
    start = None if last is None else str(Timestamp(BASE_MS + last[0], last[1], "local"))
    clock = HybridLogicalClock("local", last=start, wall=lambda: wall[0])
    seen = [Timestamp.parse(start)] if start else []
    for operation, wall_offset, offset, counter, node in operations:
        wall[0] = BASE_MS + wall_offset
        if operation == "now":
            stamp = clock.now()
            assert str(Timestamp.parse(stamp)) == stamp
            assert all(Timestamp.parse(stamp) > earlier for earlier in seen)
            seen.append(Timestamp.parse(stamp))
        else:
            remote = Timestamp(BASE_MS + offset, counter, node)
            clock.receive(str(remote))
            seen.append(remote)
        assert str(Timestamp.parse(clock.last)) == clock.last
        assert all(Timestamp.parse(clock.last) >= earlier for earlier in seen)


@CHECKS
@given(
    millis=st.integers(0, 10**13 - 1),
    counter=st.integers(0, FULL),
    node=nodes,
)
def test_a_stamp_and_its_text_round_trip(millis: int, counter: int, node: str) -> None:
    stamp = Timestamp(millis, counter, node)
    assert Timestamp.parse(str(stamp)) == stamp
    assert str(Timestamp.parse(str(stamp))) == str(stamp)


# Pieces of almost-stamps: other scripts' digits, the signs, spaces and underscores int() takes.
_odd = st.sampled_from(["١", "٣", "߀", "𝟗", "_", " ", "+", "-", "\n", "A", "F", "g", "é", ""])


def _digits(size: int, alphabet: str) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(alphabet), _odd), min_size=size, max_size=size).map(
        "".join
    )


@CHECKS
@given(
    text=st.one_of(
        st.text(),
        st.builds(
            "{}-{}-{}".format,
            _digits(13, "0123456789"),
            _digits(4, "0123456789abcdef"),
            st.one_of(nodes, st.text(max_size=70)),
        ),
    )
)
def test_text_parses_only_when_it_is_the_stamps_own_text(text: str) -> None:
    try:
        stamp = Timestamp.parse(text)
    except ValueError:
        return
    assert str(stamp) == text


@pytest.mark.parametrize(
    "text",
    [
        "١٧٩٥٦٣٢٣٢٦٦٢١-0001-device",  # Arabic-Indic digits
        "1_79563232662-0001-device",
        " 795632326621-0001-device",
        "+795632326621-0001-device",
        "1795632326621-+001-device",
        "1795632326621-0_01-device",
        "1795632326621-FFFF-device",
        "1795632326621-10000-device",
        "1795632326621-0001-",
        "1795632326621-0001-dé",
        "1795632326621-0001-two words",
        "1795632326621-0001-device\n",
        "1795632326621-0001-" + "n" * 65,
    ],
)
def test_malformed_stamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="horodatage HLC invalide"):
        Timestamp.parse(text)


def test_the_clock_refuses_a_node_no_stamp_could_carry() -> None:
    with pytest.raises(ValueError, match="horodatage HLC invalide"):
        HybridLogicalClock("poste de Martine", last=f"{BASE_MS}-0000-ancien")
