"""2 ^ x as a Spark column, by `jobs.trace.powers`' operations in its order (the DuckDB twin's bits)."""

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.trace.powers import HALF, LIMIT, TAYLOR


def power_of_two(x: Column) -> Column:
    """2 ^ `x` (a double column); Spark's floor is a long, exact for every k within ±LIMIT."""
    clamped = F.least(F.greatest(x, F.lit(-LIMIT)), F.lit(LIMIT))
    whole = F.floor(clamped + F.lit(HALF))
    fraction = clamped - whole
    polynomial = F.lit(TAYLOR[-1])
    for coefficient in reversed(TAYLOR[:-1]):
        polynomial = polynomial * fraction + F.lit(coefficient)
    return polynomial * F.pow(F.lit(2.0), whole)
