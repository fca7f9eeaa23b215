"""Reading one YAML file: plain data, locations, and every way a file can be unreadable."""

from __future__ import annotations

from typing import Any

import pytest

from mlopsctl.specs import yamlio
from mlopsctl.specs.yamlio import MAX_BYTES, MAX_DEPTH, excerpt, parse


def only_problem(src: bytes | str, path: str = "models/m.yaml") -> Any:
    raw = src.encode() if isinstance(src, str) else src
    parsed = parse(path, raw)
    assert parsed.data is None
    assert len(parsed.problems) == 1, [p.format() for p in parsed.problems]
    return parsed.problems[0]


def assert_plain(value: Any) -> None:
    """No ruamel types may leak out: the cache stores JSON and providers compare with ==."""
    assert type(value) in (dict, list, str, int, float, bool, type(None)), type(value)
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str
            assert_plain(v)
    elif isinstance(value, list):
        for v in value:
            assert_plain(v)


SRC = """\
apiVersion: mlopsctl/v1
kind: Model
estimator:
  class: a.B
  params: {n: 1, flag: true, rate: 0.5, none: null}
metrics:
  - accuracy
  - f1_macro
when: 2024-01-01
"""


def test_lines_are_one_based_per_key_and_item() -> None:
    parsed = parse("models/m.yaml", SRC.encode())
    assert parsed.problems == []
    assert parsed.lines[""] == (1, 1)
    assert parsed.lines["kind"] == (2, 1)
    assert parsed.lines["estimator.params"] == (5, 3)
    assert parsed.lines["estimator.params.rate"] == (5, 30)
    assert parsed.lines["metrics.0"] == (7, 5)
    assert parsed.lines["metrics.1"] == (8, 5)


def test_data_is_plain_python() -> None:
    parsed = parse("models/m.yaml", SRC.encode())
    assert parsed.data["estimator"]["params"] == {"n": 1, "flag": True, "rate": 0.5, "none": None}
    assert parsed.data["metrics"] == ["accuracy", "f1_macro"]
    assert parsed.data["when"] == "2024-01-01"  # a timestamp stays what was written
    assert_plain(parsed.data)


def test_utf8_bom_is_accepted() -> None:
    parsed = parse("m.yaml", b"\xef\xbb\xbfa: 1\n")
    assert parsed.data == {"a": 1}


def test_malformed_yaml_names_the_parser_line() -> None:
    p = only_problem("a: 1\nb: [1, 2\nc: 3\n")
    assert p.location.file == "models/m.yaml"
    assert p.location.line == 3
    assert "invalid YAML" in p.message and "flow sequence" in p.message
    assert "> 3 | c: 3" in p.excerpt


def test_bad_indentation() -> None:
    p = only_problem("a:\n  b: 1\n c: 2\n")
    assert p.location.line == 3
    assert p.message.startswith("invalid YAML")


def test_tab_gets_an_explanation() -> None:
    p = only_problem("a: 1\t# comment\n")
    assert (p.location.line, p.location.column) == (1, 5)
    assert "tabs" in p.message


def test_empty_and_comment_only_files() -> None:
    for src in ("", "\n\n  \n", "# nothing here\n# at all\n", "---\n...\n"):
        p = only_problem(src)
        assert "file is empty" in p.message
        assert (p.location.line, p.location.column) == (1, 1)


def test_not_utf8_points_at_the_byte() -> None:
    p = only_problem(b"name: ok\nkind: caf\xe9\n")
    assert "not UTF-8" in p.message and "0xe9" in p.message
    assert (p.location.line, p.location.column) == (2, 10)


def test_nul_bytes_are_refused() -> None:
    p = only_problem(b"a: 1\nb: \x00\n")
    assert "NUL" in p.message and p.location.line == 2


def test_duplicate_key() -> None:
    p = only_problem("kind: Model\nname: a\nestimator: {}\nname: b\n")
    assert (p.location.line, p.location.column) == (4, 1)
    assert "duplicate key 'name'" in p.message


def test_duplicate_nested_key() -> None:
    p = only_problem("estimator:\n  params:\n    n: 1\n    n: 2\n")
    assert (p.location.line, p.location.column) == (4, 5)
    assert "duplicate key 'n'" in p.message


def test_top_level_must_be_a_mapping() -> None:
    assert "got a list" in only_problem("- a\n- b\n").message
    assert "got a string" in only_problem("just text\n").message
    assert "got a number" in only_problem("42\n").message


def test_several_documents_are_refused() -> None:
    p = only_problem("a: 1\n---\nb: 2\n")
    assert "single document" in p.message
    assert p.location.line == 2


@pytest.mark.timeout(60)  # expanding the aliases would take hours and gigabytes
def test_billion_laughs_is_refused() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    p = only_problem("\n".join(lines) + "\n")
    assert "aliases" in p.message
    assert p.path.startswith("a")  # the top-level key whose expansion went over the bound


def test_small_aliases_expand() -> None:
    parsed = parse("m.yaml", b"base: &b {type: float, min: 0}\nx: *b\ny:\n  <<: *b\n  max: 3\n")
    assert parsed.problems == []
    assert parsed.data["x"] == {"type": "float", "min": 0}
    assert parsed.data["y"] == {"max": 3, "type": "float", "min": 0}
    assert parsed.lines["y.max"] == (5, 3)


def test_recursive_alias_does_not_hang() -> None:
    for src in ("a: &a [*a]\n", "a: &a {b: *a}\n"):
        parsed = parse("m.yaml", src.encode())  # no exception, no hang; data (if any) is plain
        assert_plain(parsed.data)


def test_deep_flow_nesting() -> None:
    p = only_problem("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested too deeply" in p.message


def test_deep_block_nesting_is_bounded() -> None:
    depth = MAX_DEPTH + 10
    src = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}v: 1\n"
    p = only_problem(src)
    assert "nested" in p.message


def test_non_string_keys() -> None:
    parsed = parse("m.yaml", b"ok: 1\n1: x\nnull: y\n")
    assert parsed.data is None
    assert [(p.path, p.location.line) for p in parsed.problems] == [("1", 2), ("null", 3)]
    assert all("keys must be strings" in p.message for p in parsed.problems)


def test_unsupported_values() -> None:
    assert "custom YAML tag !foo" in only_problem("a: !foo bar\n").message
    assert "!!binary" in only_problem("a: !!binary aGVsbG8=\n").message
    assert "!!set" in only_problem("a: !!set {x, y}\n").message


def test_huge_integer() -> None:
    p = only_problem("a: " + "9" * 5000 + "\n")
    assert "invalid YAML value" in p.message


def test_too_big_file() -> None:
    p = only_problem(b"a: 1\n" + b"#" * MAX_BYTES)
    assert "at most" in p.message


def test_excerpt_marks_line_and_column() -> None:
    text = "a: 1\nb:\n  c: [1]\nd: 4\ne: 5\nf: 6\n"
    assert excerpt(text, 3, 3) == (
        "   1 | a: 1\n"
        "   2 | b:\n"
        " > 3 |   c: [1]\n"
        "     |   ^\n"
        "   4 | d: 4\n"
        "   5 | e: 5"
    )
    assert excerpt(text, None) is None
    assert excerpt(text, 99) is None


FAST_CASES = [
    "name: iris\nlist:\n- 1\n- two\n- {a: b, c: [1, 2]}\n- - nested\n  - x\nm:\n  - k: v\n    k2: v2\n",
    "s: |\n  block\n  text\nt: >\n  folded\n  text\nu: plain text here\nv: 0 6 * * 1\nw: '>= 0.9'\n",
    "a:\n  b:\n    c:\n      d: [1, {e: f}]\n  g: h # comment\n# c\ni: 'it''s'\nj: -2\nk: 1.5\nl: true\nm: ~\n",
    "gates: {accuracy: \">= 0.9\"}\nserve:\n  staging: {version: latest}\n  production: {version: 3}\n",
    "a: 1\nb: -2\nc: 1.5\nd: 1e3\ne: 0x1F\nf: yes\ng: on\nh: ~\ni: null\nj: ''\nk: '1'\n",  # ruamel decides
    "x: 1_000\ny: 2024-01-01\nz: .5\nzz: 5.\nq: +3\nt: True\nu: FALSE\nv: Null\nw: 2024-01-01 10:00\n",
    "a: &x 1\nb: *x\n", "a: !!str 5\n", "desc: R&D team\n", "a: 12:30\n", "a: -.inf\n", "a: \t1\n",
    "k: v\nk: w\n", "1: one\n", "a: 123456789012345678901234567890\n",
]


@pytest.mark.parametrize("text", FAST_CASES)
def test_the_libyaml_path_reads_exactly_what_ruamel_reads(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = yamlio.parse("m.yaml", text.encode())
    monkeypatch.setattr(yamlio, "_fast_parse", lambda _text: None)
    slow = yamlio.parse("m.yaml", text.encode())
    assert repr(fast.data) == repr(slow.data)  # repr: True and 1 differ
    assert fast.lines == slow.lines
    assert [p.message for p in fast.problems] == [p.message for p in slow.problems]


def test_plain_specs_take_the_libyaml_path() -> None:
    assert yamlio._fast_parse(FAST_CASES[0]) is not None
    assert yamlio._fast_parse("a: &x 1\nb: *x\n") is None


BLOCK_CASES = [
    ("schema: '2.0'\nstages:\n  train_a:\n    cmd: mlopsctl train a\n    deps:\n    - path: data/a.csv\n"
    "      hash: md5\n      md5: 32cd16d9038ebbace9872a12ccb18454\n      size: 2338\n    params:\n"
    "      params/a.yaml:\n        metrics:\n        - accuracy\n        split:\n          test_size: 0.25\n"
    "          stratify: true\n    outs:\n    - path: artifacts/a\n      md5: 407cc4ec390dbf5c4d4015f48fda0d39.dir\n"
    "      nfiles: 4\n"),
    "# header\nmodel: a\nempty:\nlist: []\nmap: {}\nq: 'it''s'\nn: ~\nf: -1.5\nw: plain words here\n",
    "a: yes\nb: on\n", "a: 1:30\n", "a: 0x1F\n", "a: 1_000\n", "a: 2024-01-01\n", "a: 1e5\n", "a: x # c\n",
    "a: \"q\"\n", "a: [1, 2]\n", "a: |\n  text\n", "- a\n- b: c\n  d: e\n", "a:\n- - x\n", "a: b\n  c\n",
    "a: &x 1\nb: *x\n", "a: 12345678901234567890123\n", "a: 1234e567\n", "k: v\nk: w\n",
    "a: 0b4a249579719fb8df96d722c94222ef.dir\nb: 0b4a249579719fb8df96d722c94222ef\n", "a: 0b1010\n",
    "a: 0B1010\nb: 0x1f2e\nc: 0o17\nd: 0b10_1\n", "a: 0e4a249579719fb8df96d722c94222ef\n",
    # digests and integers told at once: only what is a YAML 1.1 number may become one
    "a: 12345678901234567890123456789012\nb: 0b010101010101010101010101010101\nc: 0b01010101010101010101010101010a\n",
    "a: 00000000000000000000000000000000.dir\nb: 12345678901234567890123456789012.dir\n",
    "a: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nb: ABCDEF0123456789ABCDEF0123456789\n",
    "a: 0123\nb: 0\nc: 00\nd: 123456789012345678\ne: 1234567890123456789\nf: \u00b2\ng: \u0661\n",
    "a: 1\nb:\n  a: 2\n  b: {x: 1}\nc:\n  a: three\n",
]


@pytest.mark.parametrize("text", BLOCK_CASES)
def test_load_block_reads_exactly_what_pyyaml_reads(text: str) -> None:
    import yaml

    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            yamlio.load_block(text)
        return
    assert repr(yamlio.load_block(text)) == repr(expected)


def test_load_block_reads_a_dvc_lock_without_pyyaml() -> None:
    assert yamlio._Block(BLOCK_CASES[0]).parse()["stages"]["train_a"]["outs"][0]["nfiles"] == 4
    # A digest that starts like a binary number (0b...) is still a digest: no fall back to PyYAML.
    lock = BLOCK_CASES[0].replace("407cc4ec390dbf5c4d4015f48fda0d39", "0b4a249579719fb8df96d722c94222ef")
    assert yamlio._Block(lock).parse()["stages"]["train_a"]["outs"][0]["md5"].startswith("0b4a")
