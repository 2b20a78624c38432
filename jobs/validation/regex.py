"""The suites' patterns, rewritten so DuckDB's `~` finds exactly what Python's `re.search` finds.

The suites are written (and were first run) for pandas, where Great
Expectations matches with `str.contains`, i.e. `re.search`. On DuckDB it emits
`column ~ pattern` (`!~` for the negative form): a partial match too, but by
RE2, which differs from `re` in four ways the suites run into:

- `\\d` is any Unicode decimal digit for `re` (category Nd), ASCII only for RE2:
  a phone number typed with full-width digits must still be caught. It becomes
  `\\p{Nd}` (`\\D`: `\\P{Nd}`);
- `\\s` is any Unicode whitespace for `re` (`str.isspace`), six ASCII ones for
  RE2: it becomes the explicit class of every such character;
- `$` also matches before a final newline for `re`, only at the very end for
  RE2: it becomes `\\n?\\z`;
- RE2 has no lookaround: a negative lookahead of one character class, `(?!X)`,
  becomes "a character that is not X, or the end".

The last two consume what `re` only looks at, so they are rewritten only where
nothing of their branch follows them (the pattern or an alternative ends
there, possibly after closing groups); anywhere else, or for any other
construct RE2 reads differently (`\\w`, `\\b`, lookbehind, flags, ...), the
rewrite refuses instead of guessing. `tests/jobs/validation` checks every suite
pattern against `re.search` on generated text.
"""

END = r"\z"
"""RE2's end of text (its `$` without the multi-line flag)."""
WHITESPACE = r"\x{9}-\x{d}\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}-\x{2029}\x{202f}\x{205f}\x{3000}"
"""Every character `re` counts as whitespace (those whose `str.isspace()` is true; a test recomputes them),
as RE2 class ranges in hex escapes, so the SQL stays ASCII."""
ESCAPES_OUTSIDE = {"d": r"\p{Nd}", "D": r"\P{Nd}", "s": f"[{WHITESPACE}]", "S": f"[^{WHITESPACE}]"}
ESCAPES_INSIDE = {"d": r"\p{Nd}", "D": r"\P{Nd}", "s": WHITESPACE}
UNSUPPORTED_ESCAPES = set("wWbBZAGuUNx0123456789")
"""Escapes RE2 reads differently (word classes and boundaries), or that this rewrite does not look into."""


class UntranslatableRegex(ValueError):
    """A suite pattern uses a construct whose meaning for RE2 would differ from Python's `re`."""


def _class(pattern: str, start: int) -> tuple[str, int]:
    """The character class opening at `start`, rewritten, and the index after its `]`."""
    index = start + 1
    out = "["
    if index < len(pattern) and pattern[index] == "^":
        out += "^"
        index += 1
    first = True
    while index < len(pattern):
        char = pattern[index]
        if char == "]" and not first:
            return out + "]", index + 1
        if char == "\\":
            escaped = pattern[index + 1:index + 2]
            if escaped == "S" or escaped in UNSUPPORTED_ESCAPES:
                raise UntranslatableRegex(f"\\{escaped} inside a character class")
            out += ESCAPES_INSIDE.get(escaped, "\\" + escaped)
            index += 2
        elif char == "[":
            raise UntranslatableRegex("a nested character class")
        else:
            out += char
            index += 1
        first = False
    raise UntranslatableRegex("an unterminated character class")


def _atom(pattern: str, start: int) -> tuple[str, int]:
    """One class-like atom (an escape or a `[...]`) at `start`, rewritten, and the index after it."""
    if pattern[start] == "[":
        return _class(pattern, start)
    if pattern[start] == "\\":
        escaped = pattern[start + 1:start + 2]
        if escaped in UNSUPPORTED_ESCAPES:
            raise UntranslatableRegex(f"\\{escaped}")
        return ESCAPES_OUTSIDE.get(escaped, "\\" + escaped), start + 2
    return pattern[start], start + 1


def _negated(atom: str) -> str:
    """The class of characters `atom` (one character class) does not match."""
    if atom.startswith("[^"):
        return "[" + atom[2:]
    if atom.startswith("["):
        return "[^" + atom[1:]
    if atom in (r"\p{Nd}", r"\P{Nd}"):
        return (r"\P{Nd}" if atom == r"\p{Nd}" else r"\p{Nd}")
    if len(atom) == 1 or (atom.startswith("\\") and len(atom) == 2):
        return f"[^{atom}]"
    raise UntranslatableRegex(f"a lookahead of {atom!r}")


def _ends_branch(pattern: str, index: int) -> bool:
    """Nothing more of the current branch follows `index`: only closing groups, then `|` or the end."""
    while index < len(pattern) and pattern[index] == ")":
        index += 1
    return index == len(pattern) or pattern[index] == "|"


def re2_search_pattern(pattern: str) -> str:
    """`pattern` (Python `re`, searched) as an RE2 pattern that a partial match (`~`) finds in the same strings."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" or char == "[":
            atom, index = _atom(pattern, index)
            out.append(atom)
        elif char == "$":
            if not _ends_branch(pattern, index + 1):
                raise UntranslatableRegex("`$` with more of its branch after it")
            out.append(f"(?:\\n?{END})")
            index += 1
        elif pattern.startswith("(?!", index):
            atom, after = _atom(pattern, index + 3)
            if after >= len(pattern) or pattern[after] != ")" or not _ends_branch(pattern, after + 1):
                raise UntranslatableRegex("a lookahead that is not one class at the end of its branch")
            out.append(f"(?:{_negated(atom)}|{END})")
            index = after + 1
        elif pattern.startswith("(?", index) and not pattern.startswith("(?:", index):
            raise UntranslatableRegex(f"the group {pattern[index:index + 4]!r}")
        else:
            out.append(char)
            index += 1
    return "".join(out)
