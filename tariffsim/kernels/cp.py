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


def _zero_diagonal(a: np.ndarray) -> np.ndarray:
    """Copy of a (..., n, n, S) array with the i == n entries set to 0."""
    out = np.array(a, dtype=float, copy=True)
    n = out.shape[-2]
    out[..., np.arange(n), np.arange(n), :] = 0.0
    return out


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
    tau = _zero_diagonal(tariff)
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


def taste_shifter(base: Baseline, demand_shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand shifters δ̂ that move spending by given amounts at baseline prices.

    Parameters
    ----------
    base : Baseline
    demand_shift : ndarray of shape (B, n, n, S)
        A[b, i, n, j]: extra purchases by importer n from exporter i in sector j, USD mn at
        customs (pre-tariff) value, at baseline prices. Negative amounts are cuts.

    Returns
    -------
    delta : ndarray of shape (B, n, n, S)
        δ̂[b, i, n, j]. With a_ni^j = (1 + τ_ni^j) A_ni^j / X_n^j (the share of n's sector-j
        spending moved) and R the set of shifted origins (A ≠ 0):
        δ̂_ni = 1 + a_ni / π_ni for i in R; for the other origins
        δ̂_nm = 1 − Σ_{i∈R} a_ni / (1 − Σ_{i∈R} π_ni), so they lose share in proportion.
        Σ_i π_ni δ̂_ni = 1: n's total sector-j spending is unchanged at baseline prices, and
        its customs purchases from i rise by exactly A_ni there.
    bad : ndarray of bool, shape (B, n, n, S)
        Cells whose amount cannot be represented: a shift on a zero baseline flow or on a
        sector the importer does not buy, a new share ≤ 0, or other origins pushed to a
        share ≤ 0 (the amount exceeds what the importer buys elsewhere). δ̂ is 1 there.
    """
    A = np.broadcast_to(np.asarray(demand_shift, dtype=float), base.pi.shape)
    pi, X = base.pi, base.expenditure[:, None, :, :]
    shifted = A != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(shifted & (X > 0), (1.0 + base.tariff) * A / np.where(X > 0, X, 1.0), 0.0)
        rest = 1.0 - np.where(shifted, pi, 0.0).sum(axis=1, keepdims=True)  # unshifted origins' share
        scale = np.where(rest > 0, 1.0 - a.sum(axis=1, keepdims=True) / np.where(rest > 0, rest, 1.0), 1.0)
        own = np.where(pi > 0, 1.0 + a / np.where(pi > 0, pi, 1.0), 1.0)
    moved = a.sum(axis=1, keepdims=True) != 0
    bad = shifted & ((pi <= 0) | (X <= 0) | (own <= 0)
                     | (moved & ((scale <= 0) | (rest <= 0))))
    bad = bad | (shifted & np.any(bad, axis=1, keepdims=True))
    delta = np.where(shifted, own, np.broadcast_to(scale, A.shape))
    delta = np.where(np.any(bad, axis=1, keepdims=True), 1.0, delta)
    return delta, bad


def _demand(base: Baseline, S_: np.ndarray, F: np.ndarray, income_fixed: np.ndarray,
            X0: np.ndarray | None, linear: str, tol: float) -> np.ndarray:
    """Solve CP eq. 4 (linear in X') for new tariff-inclusive absorption X', shape (B, n, S).

    ``S_[b, i, n, j] = π'/(1+τ')`` (customs share of spending), ``F[b, n, j] = Σ_i S_``,
    ``income_fixed[b, n] = ŵ_n VA_n + D'_n``.
    """
    alpha = base.alpha
    if base.io is None:
        # X'_n^j = α_n^j I'_n,  I'_n = ŵVA + D' + Σ_k (1 − F'_n^k) X'_n^k
        #   => I'_n = (ŵVA + D') / (1 − Σ_k α_n^k (1 − F'_n^k))
        inc = income_fixed / (1.0 - np.einsum("bnk,bnk->bn", alpha, 1.0 - F))
        return alpha * inc[..., None]
    io = base.io
    b, n, s = alpha.shape
    rhs = alpha * income_fixed[..., None]  # α_n^j (ŵ_n VA_n + D'_n)
    if linear == "direct":
        # A[(n,j),(m,k)] = γ_n^{j,k} S_nm^k  +  δ_nm α_n^j (1 − F'_n^k)
        A = np.einsum("njk,bnmk->bnjmk", io, S_)
        idx = np.arange(n)
        A[:, idx, :, idx, :] += np.einsum("bnj,bnk->nbjk", alpha, 1.0 - F)
        A = A.reshape(b, n * s, n * s)
        A *= -1.0
        A[:, np.arange(n * s), np.arange(n * s)] += 1.0  # (I − A)
        return np.linalg.solve(A, rhs.reshape(b, n * s, 1)).reshape(b, n, s)
    # block-Jacobi: country blocks solved exactly, trade links iterated from a warm start.
    # (I − A_nn) X_n = rhs_n + Σ_k γ_n^{j,k} Σ_{m≠n} S_nm^k X_m^k
    idx = np.arange(n)
    dom = S_[:, idx, idx, :]  # S_nn^k, (B, n, S)
    A_nn = io[None] * dom[:, :, None, :] + alpha[..., None] * (1.0 - F)[:, :, None, :]
    inv = np.linalg.inv(np.eye(s) - A_nn)  # (B, n, S, S)
    X = rhs.copy() if X0 is None else X0.copy()
    for _ in range(10_000):
        Y_for = np.einsum("bnmk,bmk->bnk", S_, X) - dom * X  # Σ_{m≠n} S_nm^k X_m^k
        Xn = np.einsum("bnjk,bnk->bnj", inv, rhs + np.einsum("njk,bnk->bnj", io, Y_for))
        done = np.max(np.abs(Xn - X)) <= tol * max(np.max(np.abs(Xn)), 1e-300)
        X = Xn
        if done:
            break
    return X


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
    """
    pi0, tau0, VA = base.pi, base.tariff, base.value_added
    b, n, _, s = pi0.shape
    tau1 = _zero_diagonal(tariff_new)
    theta = np.broadcast_to(np.asarray(theta, float), (b, s))
    gamma, io = base.gamma, base.io
    D1 = base.deficit if deficit_new is None else np.asarray(deficit_new, float)
    z = np.ones((b, n, s)) if productivity is None else np.asarray(productivity, float)
    # κ̂_ni^j = (1 + τ'_ni^j)/(1 + τ_ni^j) · d̂_ni^j
    kappa = (1.0 + tau1) / (1.0 + tau0)
    if ntb is not None:
        kappa = kappa * (1.0 + np.asarray(ntb, float))
    th = theta[:, None, None, :]
    pik = pi0 * kappa ** (-th)  # π_ni^j (κ̂_ni^j)^(−θ^j), constant during the solve
    if taste is not None:
        delta = np.asarray(taste, float)
        # G_n^j = Σ_i π_ni δ̂_ni^(θ/(θ+1)) p̂_ni^(−θ): baseline-taste CES quantity per unit spent
        pig = pik * delta ** (th / (th + 1.0))
        pik = pik * delta  # δ̂ π κ̂^(−θ): the share equation's weights
    inv_t1 = 1.0 / (1.0 + tau1)
    if linear not in ("block", "direct"):
        raise ValueError(f"linear must be 'block' or 'direct', got {linear!r}")
    VA_tot = VA.sum(axis=1, keepdims=True)

    lnw = np.zeros((b, n))
    lnP = np.zeros((b, n, s))
    X_prev = None

    def evaluate(lnw, lnP, X_prev):
        """All endogenous variables at wages exp(lnw); returns a dict."""
        w = np.exp(lnw)
        lnz = np.log(z)
        for _ in range(100_000):
            if io is None:
                lnc = np.broadcast_to(lnw[..., None], (b, n, s))  # ĉ = ŵ when γ = 1
            else:
                # ln ĉ_n^j = γ_n^j ln ŵ_n + Σ_k γ_n^{k,j} ln P̂_n^k
                lnc = gamma * lnw[..., None] + np.einsum("nkj,bnk->bnj", io, lnP)
            xp = np.exp(-theta[:, None, :] * (lnc - lnz))  # (ĉ_i^j / ẑ_i^j)^(−θ^j)
            Pt = np.einsum("binj,bij->bnj", pik, xp)  # P̂_n^(−θ) = Σ_i π κ̂^(−θ) (ĉ/ẑ)^(−θ)
            with np.errstate(divide="ignore"):
                lnP_new = np.where(Pt > 0, -np.log(np.where(Pt > 0, Pt, 1.0)) / theta[:, None, :], 0.0)
            if taste is not None:
                # baseline-taste index: ln P̂ = ln Σ δ̂ π p̂^(−θ) − (θ+1)/θ ln Σ δ̂^(θ/(θ+1)) π p̂^(−θ)
                G = np.einsum("binj,bij->bnj", pig, xp)
                with np.errstate(divide="ignore"):
                    lnP_new = np.where((Pt > 0) & (G > 0), np.log(np.where(Pt > 0, Pt, 1.0))
                                       - (1.0 + 1.0 / theta[:, None, :]) * np.log(np.where(G > 0, G, 1.0)), 0.0)
            step = np.max(np.abs(lnP_new - lnP)) if lnP.size else 0.0
            lnP = lnP_new
            if io is None or step <= 1e-3 * tol:
                break
        # P̂_n^(−θ) (with tastes: the share equation's normaliser Σ δ̂ π p̂^(−θ))
        Ptn = Pt if taste is not None else np.exp(-theta[:, None, :] * lnP)
        # π'_ni^j = π_ni^j (κ̂ ĉ_i/ẑ_i / P̂_n)^(−θ^j)
        pi1 = pik * xp[:, :, None, :] / np.where(Pt > 0, Ptn, 1.0)[:, None, :, :]
        S_ = pi1 * inv_t1  # π'/(1 + τ'): customs share of tariff-inclusive spending
        F = S_.sum(axis=1)  # F'_n^j = Σ_i π'_ni^j / (1 + τ'_ni^j)
        X = _demand(base, S_, F, w * VA + D1, X_prev, linear, 1e-3 * tol)
        flows = S_ * X[:, None, :, :]  # M'_ni^j = π'_ni^j X'_n^j / (1 + τ'_ni^j)
        Y = flows.sum(axis=2)  # Y'_i^j = Σ_n M'_in^j
        excess = flows.sum(axis=(1, 3)) - D1 - Y.sum(axis=2)  # purchases − D' − sales
        # Jacobi-Newton scale: d excess_n / d ln ŵ_n ≈ ŵVA + Σ γ^2 θ (1 − π') M' (own-price effect)
        jac = w * VA + np.einsum("ij,bj,bimj->bi", gamma ** 2, theta, flows * (1.0 - pi1))
        res = np.max(np.abs(excess) / VA, axis=1)
        return dict(w=w, lnc=lnc, lnP=lnP, Pt=Pt, pi1=pi1, X=X, flows=flows, excess=excess,
                    jac=jac, res=res, F=F, Y=Y)

    cur = evaluate(lnw, lnP, X_prev)
    lam = np.ones(b)
    iters = np.zeros(b, dtype=int)
    done = cur["res"] <= tol
    acc_lnw = lnw
    eye = np.eye(n)

    def merit(state):
        return np.sum((state["excess"] / VA) ** 2, axis=1)  # ||excess / VA||²

    def diagonal_jacobian(state):
        return eye * (state["jac"] / VA)[:, None, :]  # d(excess_n/VA_n)/d ln ŵ_n, own effect only

    J = diagonal_jacobian(cur)
    u = VA / VA_tot
    for it in range(1, max_iter + 1):
        if np.all(done):
            break
        f = cur["excess"] / VA
        # quasi-Newton step J Δ = −f (Broyden). Walras' law makes J singular (VAᵀ J = 0); the
        # rank-one term u uᵀ (u = VA/ΣVA) pins the level, which the numeraire fixes anyway.
        direction = -np.linalg.solve(J + u[:, :, None] * u[:, None, :], f[..., None])[..., 0]
        trial = acc_lnw + np.where(done, 0.0, lam)[:, None] * direction
        # numeraire: Σ_n ŵ_n VA_n = Σ_n VA_n
        trial = trial - np.log((np.exp(trial) * VA).sum(axis=1, keepdims=True) / VA_tot)
        new = evaluate(trial, cur["lnP"], cur["X"])
        # Broyden update from every evaluated point: J += (Δf − J Δx) Δxᵀ / (Δxᵀ Δx)
        dx = np.where(done[:, None], 0.0, trial - acc_lnw)
        df = new["excess"] / VA - f
        denom = np.einsum("bn,bn->b", dx, dx)
        upd = (df - np.einsum("bmn,bn->bm", J, dx))[:, :, None] * dx[:, None, :]
        J = J + np.where(denom > 0, 1.0, 0.0)[:, None, None] * upd / np.where(denom > 0, denom, 1.0)[:, None, None]
        better = (merit(new) < merit(cur)) & ~done
        # accept improving steps; otherwise halve the step and retry from the accepted point
        lam = np.where(better, np.minimum(1.0, lam * 2.0), lam * 0.5)
        keep = better[:, None]
        acc_lnw = np.where(keep, trial, acc_lnw)
        if better.all():
            cur = new
        elif better.any():
            cur = {k: np.where(better.reshape((b,) + (1,) * (v.ndim - 1)), v, cur[k]) for k, v in new.items()}
        stuck = lam < 1.0 / 64.0  # restart from the diagonal Jacobian
        J = np.where(stuck[:, None, None], diagonal_jacobian(cur), J)
        lam = np.where(stuck, 1.0, lam)
        iters = np.where(done, iters, it)
        done = done | (cur["res"] <= tol)

    X1 = cur["X"]
    # goods-market residual: X' − (Σ_k γ^{j,k} Y'^k + α I')
    F, Y = cur["F"], cur["Y"]
    rev = np.einsum("bnk,bnk->bn", 1.0 - F, X1)
    inc1 = cur["w"] * VA + D1 + rev  # I'_n = ŵ_n VA_n + R'_n + D'_n
    demand = base.alpha * inc1[..., None]
    if io is not None:
        demand = demand + np.einsum("njk,bnk->bnj", io, Y)
    res_goods = np.max(np.abs(X1 - demand), axis=(1, 2)) / np.maximum(np.max(np.abs(X1), axis=(1, 2)), 1e-300)
    c_hat = np.exp(cur["lnc"])
    return Equilibrium(
        w_hat=cur["w"], c_hat=np.array(c_hat), p_hat=c_hat / z, P_hat=np.exp(cur["lnP"]),
        pi=cur["pi1"], expenditure=X1, flows=cur["flows"], income=inc1, deficit=np.broadcast_to(D1, (b, n)).copy(),
        success=done & (res_goods <= max(tol, 1e-8)), iterations=iters,
        residual_trade_balance=cur["res"], residual_goods=res_goods,
    )
