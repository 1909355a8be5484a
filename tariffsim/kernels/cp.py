"""Exact hat algebra for the multi-sector Caliendo–Parro (2015) model, batched.

Belongs here: calibration of the baseline (expenditure shares, final-demand shares,
incomes, deficits) from flows and tariffs, and the equilibrium solver in changes.
Pure numpy; no labels, no pandas, no warnings, no printing. The one-sector Armington /
Eaton–Kortum model (Dekle, Eaton & Kortum 2008) is the special case S = 1, γ = 1.
Derived outputs (welfare, decomposition, ACR) live in :mod:`tariffsim.kernels.cp_outputs`.

Notation (maps to CP 2015, Section 2 and Appendix C; their arrays are [n, i, j] =
importer, exporter, sector, ours are [b, i, n, j] = batch, exporter, importer, sector):

======  ==========================================================================
B       number of scenarios (leading batch axis)
M       flows at customs (pre-tariff) value, ``M[b, i, n, j]``; domestic on i == n
tau     ad valorem tariff τ_ni^j (decimal), ``tau[b, i, n, j]``; domestic forced to 0
X       tariff-inclusive absorption X_n^j = Σ_i (1 + τ_ni^j) M_ni^j, ``X[b, n, j]``
pi      π_ni^j = (1 + τ_ni^j) M_ni^j / X_n^j, shares of tariff-inclusive spending
gamma   value-added share γ_n^j, ``gamma[n, j]``
io      γ_n^{k,j}: cost share of input k in sector j, ``io[n, k, j]``
alpha   final-demand shares α_n^j, ``alpha[b, n, j]``, Σ_j α = 1
VA      value added w_n L_n = Σ_j γ_n^j Y_n^j, ``VA[b, n]``
D       deficit D_n = Σ_{i,j} M_ni^j − Σ_{m,j} M_mn^j (purchases minus sales, both
        at producer prices), ``D[b, n]``
I       income I_n = VA_n + tariff revenue_n + D_n
theta   trade elasticity (dispersion) θ^j > 0, ``theta[b, j]``
======  ==========================================================================

Conversion of flows: CP's π are shares of *tariff-inclusive* spending; the library's
flows are at customs value. We convert once, here: ``pi = (1 + tau) * M / X`` and back,
``M' = pi' * X' / (1 + tau')``.

Demand (taste) shifters, for purchase commitments (:func:`taste_shifter`): the share
equation becomes π'_ni^j = δ̂_ni^j π_ni^j (κ̂ ĉ_i/ẑ_i)^(−θ) / Σ_m δ̂_nm^j π_nm^j (κ̂ ĉ_m/ẑ_m)^(−θ),
with δ̂ normalised so that Σ_i π_ni^j δ̂_ni^j = 1 (at baseline prices the shares are
π_ni^j δ̂_ni^j). Prices and welfare are measured at *baseline* tastes: the sectoral price
index P̂_n^j is the cost, at new prices, of one unit of the baseline-taste CES composite
(elasticity θ + 1, the Armington reading of θ) *in the bundle actually bought*,

    P̂_n^j = Σ_i π_ni δ̂_ni p̂_ni^(−θ) · [Σ_i π_ni δ̂_ni^(θ/(θ+1)) p̂_ni^(−θ)]^(−(θ+1)/θ),
    p̂_ni = κ̂_ni ĉ_i / ẑ_i (delivered, tariff-inclusive price change),

which equals [Σ_i π_ni p̂_ni^(−θ)]^(−1/θ) when δ̂ = 1 and is never below it (the bundle is
not the cost-minimising one for baseline tastes; the gap is second order in δ̂ − 1). The
same P̂ is the composite's cost in production (ĉ) and in final demand (welfare), so a
commitment is never a gain by assumption: it costs a Harberger-type misallocation and
works through the terms of trade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _accel
from ._util import offdiagonal
from .cp_problem import evaluate, flow_state, prepare
from .cp_solve import solve_wages
from .cp_taste import taste_shifter

__all__ = ["Baseline", "Equilibrium", "calibrate", "solve_equilibrium", "taste_shifter"]


@dataclass(frozen=True)
class Baseline:
    """A calibrated baseline, all arrays with a leading batch axis B.

    Attributes
    ----------
    flows : ndarray of shape (B, n, n, S)
        Flows at customs value M[b, i, n, j] (USD mn), domestic on the diagonal.
    tariff : ndarray of shape (B, n, n, S)
        Baseline tariffs τ (decimal), zero on the diagonal.
    pi : ndarray of shape (B, n, n, S)
        Shares of tariff-inclusive spending π[b, i, n, j] (sum over i is 1 or 0).
    expenditure : ndarray of shape (B, n, S)
        Tariff-inclusive absorption X[b, n, j] (USD mn).
    value_added : ndarray of shape (B, n)
        w_n L_n (USD mn).
    deficit : ndarray of shape (B, n)
        D_n (USD mn); sums to zero over n.
    income : ndarray of shape (B, n)
        I_n = VA_n + R_n + D_n (USD mn).
    alpha : ndarray of shape (B, n, S)
        Final-demand shares (non-negative, sum to one over sectors).
    alpha_clipped : ndarray of shape (B,)
        Total negative final demand set to zero when calibrating α (USD mn); 0 means the
        baseline is an exact equilibrium of the model.
    gamma : ndarray of shape (n, S)
    io : ndarray of shape (n, S, S) or None
    """

    flows: np.ndarray
    tariff: np.ndarray
    pi: np.ndarray
    expenditure: np.ndarray
    value_added: np.ndarray
    deficit: np.ndarray
    income: np.ndarray
    alpha: np.ndarray
    alpha_clipped: np.ndarray
    gamma: np.ndarray
    io: np.ndarray | None


@dataclass(frozen=True)
class Equilibrium:
    """Counterfactual equilibrium in changes.

    Attributes
    ----------
    w_hat : ndarray of shape (B, n)
        Wage (value-added price) changes; numeraire Σ_n ŵ_n VA_n = Σ_n VA_n.
    c_hat : ndarray of shape (B, n, S)
        Input-bundle cost changes ĉ_n^j.
    p_hat : ndarray of shape (B, n, S)
        Producer (ex-works) price changes ĉ_n^j / ẑ_n^j (ẑ = productivity change).
    P_hat : ndarray of shape (B, n, S)
        Sectoral price index changes P̂_n^j (1 where the country spends nothing), at
        baseline tastes (see the module notes; the usual CES index when δ̂ = 1).
    pi : ndarray of shape (B, n, n, S)
        New shares of tariff-inclusive spending π'.
    expenditure : ndarray of shape (B, n, S)
        New tariff-inclusive absorption X' (USD mn at the numeraire).
    flows : ndarray of shape (B, n, n, S)
        New flows at customs value M' = π' X' / (1 + τ').
    income : ndarray of shape (B, n)
        I'_n = ŵ_n VA_n + R'_n + D'_n.
    deficit : ndarray of shape (B, n)
        D'_n.
    success, iterations : ndarray of shape (B,)
    residual_trade_balance : ndarray of shape (B,)
        max_n |Σ purchases − D' − Σ sales| / VA_n at the solution.
    residual_goods : ndarray of shape (B,)
        max |X' − (intermediate + final demand)| / max X' (goods market clearing).
    """

    w_hat: np.ndarray
    c_hat: np.ndarray
    p_hat: np.ndarray
    P_hat: np.ndarray
    pi: np.ndarray
    expenditure: np.ndarray
    flows: np.ndarray
    income: np.ndarray
    deficit: np.ndarray
    success: np.ndarray
    iterations: np.ndarray
    residual_trade_balance: np.ndarray
    residual_goods: np.ndarray


def calibrate(
    flows: np.ndarray,
    tariff: np.ndarray,
    value_added_share: np.ndarray | None = None,
    io: np.ndarray | None = None,
) -> Baseline:
    """Calibrate the CP baseline from flows at customs value and baseline tariffs.

    Parameters
    ----------
    flows : ndarray of shape (n, n, S) or (B, n, n, S)
        M[i, n, j], USD mn, domestic on the diagonal.
    tariff : ndarray of shape (B, n, n, S)
        Baseline ad valorem tariffs (decimal); the diagonal is ignored (set to 0).
    value_added_share : ndarray of shape (n, S), optional
        γ_n^j; ``None`` means 1 (no intermediate inputs).
    io : ndarray of shape (n, S, S), optional
        io[n, k, j] cost share of input k in sector j; requires ``value_added_share``.

    Returns
    -------
    Baseline

    Notes
    -----
    α follows CP's replication code: final demand is absorption minus intermediate
    demand, negative values are set to zero and the shares renormalised (the clipped
    amount is reported in ``alpha_clipped``).
    """
    tau = offdiagonal(tariff)
    M = np.broadcast_to(np.asarray(flows, dtype=float), tau.shape)
    n, s = M.shape[-2], M.shape[-1]
    gamma = np.ones((n, s)) if value_added_share is None else np.asarray(value_added_share, float)
    spend = (1.0 + tau) * M  # (1 + τ_ni) M_ni: tariff-inclusive spending
    X = spend.sum(axis=1)  # X_n^j = Σ_i (1 + τ_ni^j) M_ni^j
    with np.errstate(invalid="ignore", divide="ignore"):
        pi = np.where(X[:, None] > 0, spend / X[:, None], 0.0)  # π_ni^j = (1+τ)M / X_n^j
    Y = M.sum(axis=2)  # Y_i^j = Σ_n M_in^j  (gross output at producer prices)
    VA = np.einsum("nj,bnj->bn", gamma, Y)  # w_n L_n = Σ_j γ_n^j Y_n^j
    R = (tau * M).sum(axis=(1, 3))  # R_n = Σ_{i,j} τ_ni^j M_ni^j
    D = M.sum(axis=(1, 3)) - M.sum(axis=(2, 3))  # D_n = purchases − sales
    I = VA + R + D  # I_n = w_n L_n + R_n + D_n
    if io is None:
        final = X  # no intermediate demand
    else:
        # intermediate demand for k: Σ_j γ_n^{k,j} Y_n^j
        final = X - np.einsum("nkj,bnj->bnk", io, Y)
    clipped = np.clip(-final, 0.0, None).sum(axis=(1, 2))
    final = np.clip(final, 0.0, None)
    tot = final.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(tot > 0, final / tot, 1.0 / s)  # α_n^j = F_n^j / Σ_k F_n^k
    return Baseline(
        flows=np.array(M), tariff=tau, pi=pi, expenditure=X, value_added=VA, deficit=D,
        income=I, alpha=alpha, alpha_clipped=clipped, gamma=gamma,
        io=None if io is None else np.asarray(io, float),
    )


def solve_equilibrium(
    base: Baseline,
    tariff_new: np.ndarray,
    theta: np.ndarray,
    *,
    ntb: np.ndarray | None = None,
    productivity: np.ndarray | None = None,
    deficit_new: np.ndarray | None = None,
    taste: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 500,
    linear: str = "block",
    accelerate: bool | None = None,
) -> Equilibrium:
    """Solve the CP counterfactual equilibrium in changes for B scenarios at once.

    Parameters
    ----------
    base : Baseline
    tariff_new : ndarray of shape (B, n, n, S)
        New tariffs τ' (decimal); revenue is rebated to the importer. Diagonal ignored.
    theta : ndarray of shape (S,) or (B, S)
        Trade elasticities θ^j > 0.
    ntb : ndarray of shape (B, n, n, S), optional
        Iceberg cost change: d̂_ni^j = 1 + ntb (no revenue).
    productivity : ndarray of shape (B, n, S), optional
        Productivity changes ẑ_i^j (1 = none): producer prices are ĉ_i^j / ẑ_i^j
        (CP's λ̂_i^j = (ẑ_i^j)^θ^j).
    deficit_new : ndarray of shape (B, n), optional
        D'_n (USD mn, sums to 0); default the baseline deficits.
    taste : ndarray of shape (B, n, n, S), optional
        Demand shifters δ̂ (from :func:`taste_shifter`, Σ_i π_ni δ̂_ni = 1): shares become
        ∝ δ̂ π (κ̂ ĉ/ẑ)^(−θ), and P̂ is the baseline-taste price index of the module notes.
    tol : float
        Convergence: max_n |trade-balance excess_n| / VA_n ≤ tol.
    max_iter : int
        Maximum outer (wage) iterations.
    linear : {"block", "direct"}
        How the linear expenditure system (CP eq. 4) is solved with IO links: block-Jacobi
        (exact per-country S x S solves, trade links iterated from a warm start; default),
        or one LU solve of the full nS x nS system (slow for large n S or batches).
    accelerate : bool or None
        Use the compiled (numba) solver where it applies (no taste shifters; with IO links
        for ``linear="block"``, :mod:`tariffsim.kernels._accel_cp_io`):
        ``None`` (default) when numba is importable and the environment variable
        ``TARIFFSIM_NO_NUMBA`` is not set; ``False`` the pure-numpy solver; ``True``
        requires numba. Both give the same answers to solver precision.

    Returns
    -------
    Equilibrium

    Notes
    -----
    Algorithm (CP Appendix C, with a better-scaled wage step). Given ŵ: (1) inner fixed
    point on (ĉ, P̂), warm-started; (2) π'; (3) X' from the linear system; (4) labour-market
    clearing gives ŵ_LMC = Σ_j γ_n^j Y'_n^j / VA_n, whose gap to ŵ equals the trade-balance
    excess; (5) a quasi-Newton (Broyden) step in ln ŵ, started from the own-wage
    derivative of the excess, so ŵ stays positive, with per-scenario backtracking on
    ||excess/VA||² (restarting from the diagonal Jacobian when steps keep failing). The numeraire keeps
    world value added fixed: Σ_n ŵ_n VA_n = Σ_n VA_n.

    Performance: scenarios are solved in cache-sized blocks (:func:`_blocks`), each leaving
    the iteration when it converges; the wage iteration reads two precomputed arrays per
    evaluation (:mod:`tariffsim.kernels.cp_problem`); BLAS runs single-threaded inside
    (threadpoolctl), so a loaded machine cannot oversubscribe the cores. A scenario's
    answer does not depend on the batch it is solved in.
    """
    if linear not in ("block", "direct"):
        raise ValueError(f"linear must be 'block' or 'direct', got {linear!r}")
    b, n, _, s = np.shape(tariff_new)
    theta = np.broadcast_to(np.asarray(theta, float), (b, s))
    d1 = base.deficit if deficit_new is None else np.asarray(deficit_new, float)
    d1 = np.broadcast_to(d1, (b, n))
    numba_solve = None
    if taste is None and linear == "block":  # compiled, without or with IO links (kernels/_accel_cp*.py)
        numba_solve = (_accel.cp_solver if base.io is None else _accel.cp_io_solver)(accelerate)
    elif accelerate:
        _accel.cp_solver(accelerate)  # raises if numba is missing
    if numba_solve is not None:  # compiled loops, no BLAS calls: no thread pool to limit
        return _from_compiled(base, tariff_new, theta, numba_solve, ntb=ntb, productivity=productivity,
                              d1=d1, tol=tol, max_iter=max_iter)
    big = {"pi": np.empty((b, n, n, s)), "flows": np.empty((b, n, n, s))}  # per-flow outputs, written in place
    with _accel.single_blas_thread():
        parts = []
        for sl in _blocks(b, n * n * s * (3 if taste is not None else 2)):
            pb = prepare(
                _rows(base.pi, sl), _rows(base.tariff, sl), offdiagonal(tariff_new[sl]), theta[sl],
                ntb=_rows(ntb, sl),
                productivity=_rows(productivity, sl), taste=_rows(taste, sl), value_added=_rows(base.value_added, sl),
                deficit_new=d1[sl], alpha=_rows(base.alpha, sl), gamma=base.gamma, io=base.io, linear=linear, tol=tol,
            )
            parts.append(_finish(pb, solve_wages(pb, max_iter), {k: v[sl] for k, v in big.items()}))
    out = {k: np.concatenate([p[k] for p in parts]) if len(parts) > 1 else parts[0][k] for k in parts[0]}
    out.update(big)
    out["success"] = out["success"] & (out["residual_goods"] <= max(tol, 1e-8))
    return Equilibrium(**out)


#: Bytes of per-flow arrays a block of scenarios may occupy (about the L2 cache: 2 MiB measured
#: fastest for the numpy path on 10 x 28, larger blocks gain nothing, smaller pay Python overhead).
BLOCK_BYTES = 1 << 21


def _blocks(b: int, flow_values: int):
    """Slices of at most BLOCK_BYTES / (8 · flow_values) scenarios (at least one)."""
    size = max(1, BLOCK_BYTES // (8 * flow_values))
    return [slice(k, min(k + size, b)) for k in range(0, b, size)]


def _rows(a, sl: slice):
    """Rows ``sl`` of a batched array, or the array itself when its batch axis is 1 (shared)."""
    if a is None:
        return None
    a = np.asarray(a)
    return a if a.shape[0] == 1 else a[sl]


def _from_compiled(base, tariff_new, theta, solve, *, ntb, productivity, d1, tol, max_iter) -> Equilibrium:
    """Equilibrium from a compiled solver (no taste shifters; IO links when ``base.io`` is set)."""
    b, n, _, s = np.shape(tariff_new)
    io = {} if base.io is None else {"io": base.io}
    lnz_batch = 1 if base.io is None else b  # the IO solver takes its batch size from lnz
    lnz = np.zeros((lnz_batch, n, s)) if productivity is None else np.log(np.broadcast_to(productivity, (b, n, s)))
    r = solve(base.pi, base.tariff, tariff_new, theta, ntb=ntb, lnz=lnz, va=base.value_added, d1=d1,
              alpha=base.alpha, gamma=base.gamma, tol=tol, max_iter=max_iter, **io)
    w = np.exp(r["lnw"])
    # ĉ = ŵ when there are no intermediate inputs; the IO solver returns ĉ = ŵ^γ Π P̂^γ'
    c_hat = np.repeat(w[..., None], s, axis=2) if base.io is None else r["c_hat"]
    p_hat = c_hat.copy() if productivity is None else c_hat / np.exp(lnz)  # p̂ = ĉ/ẑ
    return Equilibrium(
        w_hat=w, c_hat=c_hat, p_hat=p_hat, P_hat=r["P_hat"], pi=r["pi1"], expenditure=r["X"],
        flows=r["flows"], income=r["income"], deficit=np.array(d1), iterations=r["iters"],
        success=r["done"] & (r["res_goods"] <= max(tol, 1e-8)), residual_trade_balance=r["res"],
        residual_goods=r["res_goods"],
    )


def _finish(pb, sol, big: dict) -> dict:
    """Equilibrium fields of one block at the solved wages (one more evaluation).

    The per-flow fields π' and M' are written into ``big["pi"]``, ``big["flows"]`` (this
    block's rows of the batch's arrays) and left out of the returned dict.
    """
    st = evaluate(pb, sol.lnw, sol.lnP, sol.X)
    flow_state(pb, st, out=(big["pi"], big["flows"]))
    X1, va = st["X"], pb.va
    inc1 = st["w"] * va + pb.d1 + np.einsum("bnk,bnk->bn", 1.0 - st["F"], X1)  # I' = ŵVA + D' + R'
    demand = pb.alpha * inc1[..., None]  # goods market: X' = Σ_k γ^{j,k} Y'^k + α I'
    if pb.io is not None:
        demand = demand + np.einsum("njk,bnk->bnj", pb.io, st["Y"])
    res_goods = np.max(np.abs(X1 - demand), axis=(1, 2)) / np.maximum(np.max(np.abs(X1), axis=(1, 2)), 1e-300)
    c_hat = np.exp(st["lnc"])
    return dict(
        w_hat=st["w"], c_hat=c_hat, p_hat=c_hat / np.exp(pb.lnz), P_hat=np.exp(st["lnP"]),
        expenditure=X1, income=inc1, deficit=pb.d1.copy(), success=sol.done.copy(),
        iterations=sol.iterations, residual_trade_balance=st["res"], residual_goods=res_goods,
    )
