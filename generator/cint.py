"""C's integer arithmetic, as MSVC does it: one value is ``(value, bits, signed)``.

Lowering computes constant expressions with it (enum values, array sizes, bit
widths, ``#define`` bodies); layout computes with it the array lengths that take a
``sizeof``, once per ABI.
"""

from __future__ import annotations

from typing import TypeAlias

Value: TypeAlias = tuple[int, int, bool]


class NotConstant(Exception):
    """An expression that is not an integer constant we can compute."""


def wrap(value: int, bits: int, signed: bool) -> int:
    """``value`` reduced to a ``bits``-wide integer of that signedness."""
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def unary(op: str, operand: Value) -> Value:
    """``op operand`` for the unary operators ``- + ~ !`` (integer promotion first)."""
    value, bits, signed = operand
    bits, signed = max(bits, 32), signed if bits >= 32 else True
    result = {"-": -value, "+": value, "~": ~value, "!": int(not value)}.get(op)
    if result is None:
        raise NotConstant(f"operator {op}")
    if op == "!":
        return result, 32, True
    return wrap(result, bits, signed), bits, signed


def binary(op: str, left: Value, right: Value) -> Value:
    """``left op right`` after the usual arithmetic conversions."""
    a, abits, asigned = left
    b, bbits, bsigned = right
    if op in ("<<", ">>"):
        bits, signed = max(abits, 32), asigned if abits >= 32 else True
        result = a << b if op == "<<" else a >> b
        return wrap(result, bits, signed), bits, signed
    # Usual arithmetic conversions: the wider type; unsigned wins a tie.
    bits = max(abits, bbits, 32)
    if abits == bbits:
        signed = asigned and bsigned
    else:
        signed = asigned if abits > bbits else bsigned
    if not signed:
        a, b = a & ((1 << bits) - 1), b & ((1 << bits) - 1)
    if op in ("==", "!=", "<", ">", "<=", ">=", "&&", "||"):
        result = {
            "==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b,
            "&&": bool(a and b), "||": bool(a or b),
        }[op]  # fmt: skip
        return int(result), 32, True
    if op in ("/", "%"):
        if b == 0:
            raise NotConstant("division by zero")
        quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        result = quotient if op == "/" else a - quotient * b
    else:
        operations = {
            "+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b,
        }  # fmt: skip
        if op not in operations:
            raise NotConstant(f"operator {op}")
        result = operations[op]
    return wrap(result, bits, signed), bits, signed
