"""LCS: the subsequence, LEN, IDX with MINMATCHLEN and WITHMATCHLEN, in
RESP2 and RESP3, and errors; random strings compared with a redis-server
beside Runnel (reference_server.py), which also pins which of several
equally long answers comes out."""
import pytest

from reference_server import compare, error_of, reference, seeded  # noqa: F401 (fixture)


def test_lcs(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.execute_command("LCS", "a", "b") == b"mytext"
    assert r.execute_command("LCS", "a", "b", "LEN") == 6
    assert r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert r.execute_command("LCS", "a", "b", "IDX") == [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert r.execute_command("LCS", "a", "missing") == b""
    assert r.execute_command("LCS", "missing", "missing", "IDX") == [b"matches", [], b"len", 0]


def test_lcs_errors(r):
    r.set("a", "x")
    r.rpush("l", 1)
    assert error_of(r, "LCS", "a", "l") == "The specified keys must contain string values"
    assert error_of(r, "LCS", "a", "a", "IDX", "LEN") == "If you want both the length and indexes, please just use IDX."
    assert error_of(r, "LCS", "a", "a", "NOPE") == "syntax error"
    assert error_of(r, "LCS", "a", "a", "MINMATCHLEN", "x") == "value is not an integer or out of range"


def test_lcs_idx_is_a_map_in_resp3(raw3):
    raw3.call("MSET", "a", "ohmytext", "b", "mynewtext")
    assert raw3.call("LCS", "a", "b", "IDX", "MINMATCHLEN", 3) == {"matches": [[[4, 7], [5, 8]]], "len": 6}


@pytest.mark.parametrize("seed", range(3))
def test_random_strings_match_redis(r, reference, seed):
    ref = reference.client()
    rng = seeded(seed)
    commands = []
    for _ in range(150):
        alphabet = rng.choice(["ab", "abc", "abcdefgh", "\x00\xff a"])
        a = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        commands.append(["MSET", "a", a, "b", b])
        opts = rng.choice([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", rng.randrange(-1, 5)],
                           ["IDX", "MINMATCHLEN", 2, "WITHMATCHLEN"]])
        commands.append(["LCS", "a", "b", *opts])
    compare(r, ref, commands)


def test_table_larger_than_proto_max_bulk_len_is_refused(r):
    r.set("a", "a" * 600)  # a 601 x 601 table of 4-byte cells: 1.4 MB
    r.config_set("proto-max-bulk-len", "1mb")
    try:
        assert error_of(r, "LCS", "a", "a", "LEN") == (
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    finally:
        r.config_set("proto-max-bulk-len", "512mb")
    assert r.execute_command("LCS", "a", "a", "LEN") == 600
