"""Optimal tariffs, retaliation and tariff wars in the Liberation Day model (numerical core).

Pure numpy on top of :mod:`tariffsim.kernels.ld_onesector`. IMLS = Ignatenko, Macedoni,
Lashkaripour & Simonovska, JIE 157 (2025) 104138.

- Closed form (IMLS Proposition 2): the optimal uniform import tariff of country i is
      t*_i = 1 / ((1 + ε δ_i) φ_i − 1),
      δ_i = Σ_{j≠i} X_ij (1−ν_j)(1−λ_ij) / ((1−ν_i)(D_i − X_ii)),
  with X_ij exports of i to j and D_i the country's expenditure E_i (the authors' code for
  Table 1 case 3, which gives 21.8% for the US) or its GDP Y_i (their code for Table 2 case 4).
- Numerical: maximise Ŵ_i over the uniform rate by a safeguarded Newton step on central
  differences, three equilibria per step solved as one batch.
- Nash: every country in ``players`` sets its own uniform tariff optimally given the others';
  one first-order condition per player (formula or numerical), solved by damped best-response
  iteration; residuals are reported and a failure raises ConvergenceError.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ConvergenceError
from ..kernels.ld_calibrate import two_region
from ..kernels.ld_onesector import LDBaseline, LDParams, solve
from ..kernels.ld_outputs import outputs

__all__ = ["formula_delta", "optimal_tariff_formula", "retaliation_formula", "apply_uniform",
           "optimal_tariff_numerical", "nash", "OptimalResult"]


def formula_delta(base: LDBaseline, lam=None, E=None, denominator: str = "expenditure", Y=None) -> np.ndarray:
    """δ_i of Proposition 2 for every country, shape (n,) (or (B, n) with batched λ, E)."""
    lam = base.lam if lam is None else lam
    E = base.E if E is None else E
    X = lam * E[..., None, :]  # X_ij = λ_ij E_j (tariff-inclusive, as the authors)
    n = X.shape[-1]
    off = 1.0 - np.eye(n)
    num = (X * (1.0 - base.nu) * off * (1.0 - lam)).sum(-1)  # Σ_{j≠i} X_ij (1−ν_j)(1−λ_ij)
    Xii = np.diagonal(X, axis1=-2, axis2=-1)
    if denominator == "expenditure":
        D = E
    elif denominator == "gdp":
        D = base.Y if Y is None else Y
    else:
        raise ValueError(f"denominator must be 'expenditure' or 'gdp', got {denominator!r}")
    return num / ((1.0 - base.nu) * (D - Xii))


def optimal_tariff_formula(base: LDBaseline, prm: LDParams, country: int, denominator: str = "expenditure") -> float:
    """t*_i = 1/((1 + ε δ_i) φ_i − 1) (IMLS Proposition 2) at the baseline."""
    phi = np.broadcast_to(np.asarray(prm.phi, float), base.E.shape)
    d = formula_delta(base, denominator=denominator)[country]
    return float(1.0 / ((1.0 + d * prm.eps) * phi[country] - 1.0))


def retaliation_formula(X: np.ndarray, Y: np.ndarray, nu2: np.ndarray, eps: float, phi_row: float, home: int) -> float:
    """Optimal retaliation of the rest of the world against ``home`` (two-region Proposition 2).

    The world is collapsed into (rest, home); δ_rest uses the two ν of the calibration and GDP in
    the denominator; t = 1/((1 + ε δ_rest) φ_rest − 1). ``X`` are the calibrated flows (with domestic sales).
    """
    Xa, Ya = two_region(X, Y, home)
    lam = Xa / Xa.sum(0)
    num = (Xa * (1 - nu2)[None, :] * (1 - np.eye(2)) * (1 - lam)).sum(1)
    d = num / ((1 - nu2) * (Ya - np.diag(Xa)))
    return float(1.0 / ((1.0 + d[0] * eps) * phi_row - 1.0))


def apply_uniform(tariff: np.ndarray, country: int, rate, partners=None) -> np.ndarray:
    """Tariffs with ``country``'s imports from ``partners`` (default: everyone) set to ``rate``.

    ``tariff`` (n, n) or (B, n, n[, K]), exporter j × importer i (× sector: every sector gets the
    rate); ``rate`` scalar or (B,). Returns (B, n, n[, K]).
    """
    t = np.array(tariff, float)
    if t.ndim == 2:
        t = t[None]
    rate = np.atleast_1d(np.asarray(rate, float))
    B = max(t.shape[0], rate.shape[0])
    t = np.broadcast_to(t, (B,) + t.shape[1:]).copy()
    rate = np.broadcast_to(rate, (B,))
    n = t.shape[1]
    mask = np.zeros(n, bool)
    mask[np.arange(n) if partners is None else np.asarray(partners)] = True
    mask[country] = False
    t[:, mask, country] = rate.reshape((B,) + (1,) * (t.ndim - 2))
    return t


@dataclass(frozen=True)
class OptimalResult:
    """Optimal rates, with the first-order-condition residuals and iterations."""

    rates: np.ndarray  # (K,) one per player
    welfare_pct: np.ndarray  # (K,) players' welfare at the optimum
    residual: np.ndarray  # (K,) |dW/dt| (numerical) or |t − formula| (formula)
    iterations: int
    tariff: np.ndarray  # (n, n) the tariff matrix at the optimum


class OneSectorWelfare:
    """Welfare of every country for a batch of tariffs (B, n, n) in the one-sector model."""

    def __init__(self, base: LDBaseline, prm: LDParams, tol: float = 1e-12):
        self.base, self.prm, self.tol = base, prm, tol

    def __call__(self, tariff, x0=None):
        sol = solve(self.base, tariff, self.prm, tol=self.tol, x0=x0)
        W = outputs(self.base, sol, self.prm.kappa)["welfare_pct"]
        return W, sol, np.concatenate([np.log(sol.w_hat), np.log(sol.L_hat)], -1)


class MultiSectorWelfare:
    """Welfare of every country for a batch of tariffs (B, n, n, K) in the multi-sector model."""

    def __init__(self, base, prm: LDParams, eps, psi=None, tol: float = 1e-11):
        from ..kernels.ld_multisector import solve_multisector

        self._solve = solve_multisector
        self.base, self.prm, self.eps, self.psi, self.tol = base, prm, eps, psi, tol

    def __call__(self, tariff, x0=None):
        sol, extra = self._solve(self.base, tariff, self.prm, self.eps, psi=self.psi, tol=self.tol, x0=x0)
        W = outputs(self.base.agg, sol, self.prm.kappa)["welfare_pct"]
        return W, sol, extra["x"]


def _welfare(evaluate, tariff, players, x0=None):
    W, sol, x = evaluate(tariff, x0)
    if not sol.success.all():
        raise ConvergenceError("LD equilibrium failed inside the optimal-tariff search "
                               f"(residual {sol.residual.max():.3g}).")
    return W[:, players], sol, x


def optimal_tariff_numerical(base: LDBaseline, prm: LDParams, country, tariff=None, partners=None,
                             t0: float = 0.2, h: float = 1e-4, tol: float = 1e-7, max_iter: int = 50,
                             evaluate=None) -> OptimalResult:
    """Maximise welfare over a uniform tariff on imports from ``partners`` (default all), others fixed.

    ``country`` is one importer index or a group (a list): a group sets one common rate and
    maximises its expenditure-weighted welfare Σ_g E_g Ŵ_g / Σ_g E_g (the paper's collective
    retaliation). Newton on dW/dt with central differences (step h), three equilibria per step in
    one batch; a step against the gradient's sign is replaced by a bounded move uphill.
    ``evaluate`` (default :class:`OneSectorWelfare`) maps tariffs to welfare; pass
    :class:`MultiSectorWelfare` (and (1, n, n, K) tariffs) for the multi-sector model.
    """
    n = base.E.shape[0]
    evaluate = OneSectorWelfare(base, prm) if evaluate is None else evaluate
    group = [int(c) for c in np.atleast_1d(country)]
    weight = base.E[group] / base.E[group].sum()
    tariff = (np.zeros((n, n)) if tariff is None else np.asarray(tariff, float))[None]  # (1, n, n[, K])

    def setting(rates):
        out = tariff
        for c in group:
            out = apply_uniform(out, c, rates, partners)
        return out

    t = t0
    x0 = None
    it = 0
    while it < max_iter:
        it += 1
        W, sol, x0 = _welfare(evaluate, setting(np.array([t - h, t, t + h])), group, x0)
        W = W @ weight
        g = (W[2] - W[0]) / (2 * h)
        H = (W[2] - 2 * W[1] + W[0]) / h**2
        if abs(g) < tol:
            break
        step = -g / H if H < 0 else np.sign(g) * 0.05
        t = t + float(np.clip(step, -0.5 * (1 + t), 0.5))
    if abs(g) >= tol:
        raise ConvergenceError(f"optimal tariff of {group}: |dW/dt| = {abs(g):.3g} %/unit after {max_iter} steps")
    return OptimalResult(np.array([t]), np.array([W[1]]), np.array([abs(g)]), it, setting(t)[0])


def nash(base: LDBaseline, prm: LDParams, players, tariff=None, method: str = "formula",
         tol: float = 1e-8, max_iter: int = 200, damping: float = 1.0, h: float = 1e-4,
         denominator: str = "expenditure", partners=None, t0: float = 0.2, evaluate=None) -> OptimalResult:
    """Nash equilibrium of a tariff war: each player sets its uniform tariff on all imports optimally.

    ``method="formula"``: t_i = 1/((1 + ε δ_i(λ', E')) φ_i − 1) with δ evaluated at the war
    equilibrium (the Proposition 2 first-order condition of each player) — a fixed point in t.
    ``method="numerical"``: each player's dW_i/dt_i = 0 by central differences, 2K+1 equilibria per
    round in one batch, Newton step per player (diagonal Jacobian of the FOC system).
    ``partners`` (one list of exporter indices per player, or None = all) restricts each player's
    tariff to imports from those partners (a bilateral war: US on KOR, KOR on USA); the formula
    method needs ``partners=None``. Non-players keep their tariffs from ``tariff``. Raises
    ConvergenceError if the FOCs are not met.
    """
    n = base.E.shape[0]
    players = list(np.atleast_1d(players))
    K = len(players)
    tariff = np.zeros((n, n)) if tariff is None else np.array(tariff, float)
    phi = np.broadcast_to(np.asarray(prm.phi, float), (n,))
    t = np.full(K, t0, dtype=float)
    x0 = None
    evaluate = OneSectorWelfare(base, prm) if evaluate is None else evaluate
    if method == "formula" and not isinstance(evaluate, OneSectorWelfare):
        raise ValueError("method='formula' is the one-sector first-order condition; use method='numerical'")
    partners = [None] * K if partners is None else list(partners)
    if method == "formula" and any(p is not None for p in partners):
        raise ValueError("method='formula' is the uniform-tariff first-order condition; "
                         "use method='numerical' with partners")

    def with_rates(rates):
        out = tariff.copy()
        for k, c in enumerate(players):
            out = apply_uniform(out[None], c, rates[k], partners[k])[0]
        return out

    for it in range(1, max_iter + 1):
        if method == "formula":
            sol = solve(base, with_rates(t), prm, x0=x0)
            if not sol.success.all():
                raise ConvergenceError("LD equilibrium failed in the Nash iteration "
                                       f"(residual {sol.residual.max():.3g})")
            x0 = np.concatenate([np.log(sol.w_hat), np.log(sol.L_hat)], -1)
            Yn = sol.w_hat[0] * sol.L_hat[0] * base.Y
            d = formula_delta(base, sol.lam_new[0], sol.E_hat[0] * base.E, denominator, Yn)[players]
            target = 1.0 / ((1.0 + prm.eps * d) * phi[players] - 1.0)
            resid = np.abs(target - t)
            if resid.max() < tol:
                W = outputs(base, sol, prm.kappa)["welfare_pct"][0, players]
                return OptimalResult(t, W, resid, it, with_rates(t))
            t = t + damping * (target - t)
        else:
            batch = [with_rates(t)]
            for k in range(K):
                for s in (-h, h):
                    r = t.copy()
                    r[k] += s
                    batch.append(with_rates(r))
            batch = np.stack(batch)
            Wk, sol, x = _welfare(evaluate, batch, players, None if x0 is None else np.repeat(x0, len(batch), 0))
            x0 = x[:1]
            g = np.array([(Wk[2 + 2 * k, k] - Wk[1 + 2 * k, k]) / (2 * h) for k in range(K)])
            H = np.array([(Wk[2 + 2 * k, k] - 2 * Wk[0, k] + Wk[1 + 2 * k, k]) / h**2 for k in range(K)])
            resid = np.abs(g)
            if resid.max() < tol:
                return OptimalResult(t, Wk[0], resid, it, with_rates(t))
            step = np.where(H < 0, -g / np.where(H < 0, H, -1.0), np.sign(g) * 0.05)
            t = t + damping * np.clip(step, -0.5 * (1 + t), 0.5)
    raise ConvergenceError(
        f"Nash tariff war did not converge in {max_iter} rounds: largest first-order-condition residual "
        f"{resid.max():.3g} (tol {tol:g}); raise max_iter or lower damping."
    )


def with_phi(prm: LDParams, phi) -> LDParams:
    """The same parameters with another pass-through vector."""
    return replace(prm, phi=phi)
