"""2 ^ x to the same bits in every engine: the risk score's closeness, recency and dose.

DuckDB's pow and exp are the C library's, Spark's are the JVM's StrictMath
(fdlibm). Each is within an ulp of the truth, not always the same ulp, so a
score computed with them differed between the engines in the last place (45
of 1,679 people on a simulated day), and so could the worklists' order. Here
2 ^ x uses only operations IEEE 754 rounds one way:

- x is kept within ±LIMIT (beyond it 2 ^ x is 0 or infinite in doubles anyway;
  from 1023.5 on it is infinite here);
- x = k + f, k = floor(x + ½), f = x − k, about within [−½, ½];
- 2 ^ f = e ^ (f ln 2) by its Taylor series up to the 14th power, in Horner's
  order (the first term left out is below 2e-18, the result within 2 ulps);
- times 2 ^ k, which is exact in both engines for every integer k within
  ±LIMIT (tests/jobs/trace/test_powers.py checks each).

`power_of_two` is the reference in Python, `power_of_two_sql` the DuckDB text,
`jobs.trace.spark.powers` the Spark column; the test holds all three to the
same bits.
"""

import math

LIMIT = 1100.0
"""2 ^ −1100 is 0 and 2 ^ 1100 infinite in doubles."""
MAX_EXPONENT = 1023
"""2 ^ 1024 is infinite, so 2 ^ x is from x = 1023.5 on, though 2 ^ 1023.5 would be a double."""
HALF = 0.5
TAYLOR: tuple[float, ...] = tuple(
    float.fromhex(coefficient)
    for coefficient in (
        "0x1.0000000000000p+0", "0x1.62e42fefa39efp-1", "0x1.ebfbdff82c58ep-3", "0x1.c6b08d704a0bfp-5",
        "0x1.3b2ab6fba4e77p-7", "0x1.5d87fe78a6730p-10", "0x1.430912f86c786p-13", "0x1.ffcbfc588b0c5p-17",
        "0x1.62c0223a5c822p-20", "0x1.b5253d395e7c1p-24", "0x1.e4cf5158b8ec7p-28", "0x1.e8cac7351bb22p-32",
        "0x1.c3bd650fc2983p-36", "0x1.816193166d0f7p-40", "0x1.314964d5878a7p-44",
    )
)
"""(ln 2) ^ n / n! for n = 0 … 14, written out so that no host's libm changes a bit of them."""
LOG2_E = float.fromhex("0x1.71547652b82fep+0")
"""1 / ln 2: e ^ y = 2 ^ (y × LOG2_E)."""


def power_of_two(x: float) -> float:
    """2 ^ x by the operations the engines run, in the same order."""
    clamped = min(max(x, -LIMIT), LIMIT)
    whole = math.floor(clamped + HALF)
    fraction = clamped - whole
    polynomial = TAYLOR[-1]
    for coefficient in reversed(TAYLOR[:-1]):
        polynomial = polynomial * fraction + coefficient
    return polynomial * (math.ldexp(1.0, whole) if whole <= MAX_EXPONENT else math.inf)


def _double(value: float) -> str:
    """A DuckDB DOUBLE of exactly `value` (a bare decimal literal would be a DECIMAL first)."""
    return f"CAST('{value!r}' AS DOUBLE)"


def power_of_two_sql(x: str) -> str:
    """The DuckDB expression of 2 ^ (`x`), `x` an expression of type DOUBLE (best a column: it is repeated)."""
    clamped = f"least(greatest({x}, {_double(-LIMIT)}), {_double(LIMIT)})"
    whole = f"floor({clamped} + {_double(HALF)})"
    fraction = f"({clamped} - {whole})"
    polynomial = _double(TAYLOR[-1])
    for coefficient in reversed(TAYLOR[:-1]):
        polynomial = f"({polynomial} * {fraction} + {_double(coefficient)})"
    return f"({polynomial} * pow({_double(2.0)}, {whole}))"
