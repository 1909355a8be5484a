"""Vectorisable exp and log for the compiled solvers (numba, no SVML needed).

Belongs here: ``exp`` and ``log`` of float64 (and :func:`vexp`, :func:`vlog` over arrays) written as arithmetic and integer bit
operations, so that LLVM vectorises the loops that call them (numba calls the C library,
one element at a time, otherwise: on the 10 x 28 world these calls were most of the
solve). The algorithms and constants are fdlibm's (``e_exp.c``, ``e_log.c``; Sun
Microsystems, freely usable with its notice), accurate to about one unit in the last
place. Arguments are clamped to the normal range (no subnormals, infinities or NaN
inputs handled): callers pass finite values whose results are normal numbers.
"""

from __future__ import annotations

from numba import njit, types
from numba.extending import intrinsic

__all__ = ["exp", "log", "vexp", "vlog"]

# e_exp.c / e_log.c (fdlibm 5.3): ln 2 split in a high part with trailing zero bits and a low part
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_P1, _P2, _P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05
_P4, _P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08
_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
_LG4, _LG5, _LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2 = 1.4142135623730951
_SHIFT = 6755399441055744.0  # 1.5 · 2^52: adding it rounds to an integer kept in the low mantissa bits
_SHIFT_BITS = 0x4338000000000000  # its bit pattern
_TWO52 = 4503599627370496.0
_TWO52_BITS = 0x4330000000000000


@intrinsic
def _as_float(typingctx, bits):  # pragma: no cover - compiled
    """Reinterpret int64 bits as a float64 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@intrinsic
def _as_int(typingctx, x):  # pragma: no cover - compiled
    """Reinterpret float64 bits as an int64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
def exp(x):  # pragma: no cover - compiled
    """e^x for x in [-708, 709] (clamped outside): x = k ln2 + r, e^x = 2^k (1 + 2r/(2 − R(r)))."""
    x = min(max(x, -708.0), 709.0)
    tk = x * _INV_LN2 + _SHIFT  # k = round(x / ln 2) in the low bits of tk (no float-to-int conversion)
    k = tk - _SHIFT
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)  # e^r
    return y * _as_float((_as_int(tk) - _SHIFT_BITS + 1023) << 52)  # 2^k, k in −1022 .. 1023: a normal number


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
def log(x):  # pragma: no cover - compiled
    """ln x for normal x > 0: x = 2^k m, m in [√½, √2), ln m = f − f²/2 + s (f²/2 + R(s²)), s = f/(2 + f)."""
    bits = _as_int(x)
    # the biased exponent as a float, without an int-to-float conversion: 2^52 + e − 2^52
    dk = _as_float(((bits >> 52) & 0x7FF) | _TWO52_BITS) - (_TWO52 + 1023.0)
    m = _as_float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # mantissa in [1, 2)
    if m > _SQRT2:
        m *= 0.5
        dk += 1.0
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    return dk * _LN2_HI - ((hfsq - (s * (hfsq + t1 + t2) + dk * _LN2_LO)) - f)


# Array forms for callers compiled with ``reassoc``: that flag, inlined into ``exp``, would
# cancel the rounding shift, so these loops keep the fused-multiply-add-only flags.
@njit(cache=True, error_model="numpy", fastmath={"contract"})
def vexp(x, out):  # pragma: no cover - compiled
    """out[i] = exp(x[i]) for 1-D contiguous arrays (clamped to [-708, 709] like :func:`exp`)."""
    for i in range(x.size):
        out[i] = exp(x[i])


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def vlog(x, out):  # pragma: no cover - compiled
    """out[i] = ln x[i] for 1-D contiguous arrays of normal positive numbers (like :func:`log`)."""
    for i in range(x.size):
        out[i] = log(x[i])
