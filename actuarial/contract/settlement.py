"""Settlement (结算) of one contract year between the fund and the insurer, vectorised over simulated years.

This module owns the money split of a year's outcome under a :class:`~actuarial.scenario.Contract`;
it does not simulate claims (see :mod:`actuarial.engines.engine`) nor run multi-year contracts
(see :mod:`actuarial.contract.multiyear`).

With premium P, claims C and surplus U = P − C (all yuan per simulated year):

* **surplus** (U ≥ 0) is cut into corridor slices (% of premium). The insurer keeps its
  share of each slice, the rest returns to the fund. The default corridor is "keep up to
  the surplus cap (default the combined fee rate 综合费率), return the rest".
* **loss** (U < 0), L = C − P, splits into the policy loss (政策性亏损) = min(extra claims caused
  by policy changes, L) and the non-policy loss. The fund pays
  ``policy_loss_fund_share`` of the policy loss, capped in yuan and/or % of premium; the
  insurer the rest. The non-policy loss is the insurer's, unless ``loss_bands`` share it.
* **performance bond** (质量保证金): ``withheld_percent`` of P is held back and released by the
  assessment score; the unreleased part stays with the fund.

Each term comes from its own rule, so the conservation identity

    premium = claims + insurer result + returned to fund − fund's loss share

(returned to fund = returned surplus + forfeited bond) is a real check, made in every year.

>>> import numpy as np
>>> from actuarial.scenario import Contract
>>> s = settle(Contract(combined_fee_rate_percent=4), premium=np.array([100.0, 100.0]), claims=np.array([90.0, 110.0]))
>>> s.insurer_result.tolist(), s.returned_surplus.tolist()
([4.0, -10.0], [6.0, 0.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..errors import ConservationError
from ..estimates import Estimate, mean_estimate, prob_estimate
from ..results.plots import _axes, _bins
from ..scenario import Contract

CENT = 0.005
"""Largest conservation residual tolerated, yuan (half a cent), while the terms are small enough
for float64 to hold cents; beyond about 10^12 yuan the tolerance grows with the terms (see
:meth:`Settlement.check_conservation`)."""

ULPS = 64
"""Rounding tolerated in the conservation identity, in units of the last place of the largest term
(a handful of additions and products each round by half an ulp; 64 leaves room without hiding a
real leak, which is a whole term or a share of one)."""


def corridor_split(amount: np.ndarray, premium: np.ndarray, edges, shares) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``amount`` (≥ 0, yuan) into corridor slices and split each by its insurer share.

    ``edges`` are band lower edges as fractions of ``premium``; ``shares`` the insurer's
    fraction of each slice. Returns (insurer part, fund part), yuan.

    >>> corridor_split(np.array([10.0]), np.array([100.0]), [0, 0.03, 0.08], [1, 0.5, 0])
    (array([5.5]), array([4.5]))
    """
    insurer = np.zeros_like(amount, dtype=float)
    fund = np.zeros_like(amount, dtype=float)
    uppers = list(edges[1:]) + [math.inf]
    for lo, hi, share in zip(edges, uppers, shares):
        width = (hi - lo) * premium if math.isfinite(hi) else math.inf
        piece = np.clip(amount - lo * premium, 0.0, width)
        insurer += share * piece
        fund += (1 - share) * piece
    return insurer, fund


@dataclass(frozen=True)
class Settlement:
    """The settled year, one value per simulated year; money in yuan per year.

    ``insurer_result`` is the insurer's underwriting result after settlement (its fee and
    profit, negative for a loss it bears); ``fund_loss_share`` what the fund pays towards
    a loss; ``returned_surplus`` the surplus returned to the fund; ``bond_*`` the
    performance bond withheld, released to the insurer and forfeited to the fund.
    """

    premium: np.ndarray
    claims: np.ndarray
    policy_loss: np.ndarray
    non_policy_loss: np.ndarray
    kept_surplus: np.ndarray
    returned_surplus: np.ndarray
    fund_policy_loss_share: np.ndarray
    fund_other_loss_share: np.ndarray
    insurer_policy_loss: np.ndarray
    insurer_other_loss: np.ndarray
    bond_withheld: np.ndarray
    bond_released: np.ndarray
    bond_forfeited: np.ndarray
    insurer_result: np.ndarray

    @property
    def fund_loss_share(self) -> np.ndarray:
        return self.fund_policy_loss_share + self.fund_other_loss_share

    @property
    def returned_to_fund(self) -> np.ndarray:
        """Surplus returned plus bond forfeited, yuan."""
        return self.returned_surplus + self.bond_forfeited

    @property
    def fund_outlay(self) -> np.ndarray:
        """What the year costs the fund: premium − returned to fund + its loss share, yuan."""
        return self.premium - self.returned_to_fund + self.fund_loss_share

    @property
    def insurer_margin(self) -> np.ndarray:
        """Insurer result as a fraction of premium (realised margin)."""
        return self.insurer_result / self.premium

    def conservation_residual(self) -> np.ndarray:
        """premium − (claims + insurer result + returned to fund − fund's loss share); zero to the cent."""
        return self.premium - (self.claims + self.insurer_result + self.returned_to_fund - self.fund_loss_share)

    def check_conservation(self) -> None:
        """Raise :class:`~actuarial.errors.ConservationError` if money is not conserved in some simulated year.

        The tolerance is half a cent or :data:`ULPS` units in the last place of the year's largest
        term, whichever is larger: float64 holds cents exactly only below about 10^13 yuan, so
        beyond that a fixed cent would call rounding a leak.
        """
        terms = np.abs(np.stack(np.broadcast_arrays(self.premium, self.claims, self.insurer_result,
                                                    self.returned_to_fund, self.fund_loss_share)))
        tol = np.maximum(CENT, ULPS * np.spacing(terms.max(axis=0, initial=0.0)))
        excess = np.abs(self.conservation_residual()) - tol
        if excess.size and np.max(excess) > 0:
            i = int(np.argmax(excess))
            residual = float(np.abs(self.conservation_residual()).ravel()[i])
            raise ConservationError(f"money not conserved in simulated year {i}: residual {residual:.4f} yuan "
                                    f"exceeds the tolerance {float(tol.ravel()[i]):.4g} yuan")

    def frame(self) -> pd.DataFrame:
        """One row per simulated year with every term (yuan) and the fund's outlay."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(fund_loss_share=self.fund_loss_share, returned_to_fund=self.returned_to_fund,
                    fund_outlay=self.fund_outlay, insurer_margin=self.insurer_margin)
        return pd.DataFrame(data).rename_axis("simulated_year").reset_index()

    def metrics(self) -> dict[str, Estimate]:
        """Means (yuan per year) and probabilities over simulated years, each with its SE."""
        return {
            "premium": mean_estimate(self.premium),
            "claims": mean_estimate(self.claims),
            "insurer_result": mean_estimate(self.insurer_result),
            "insurer_margin": mean_estimate(self.insurer_margin),
            "returned_surplus": mean_estimate(self.returned_surplus),
            "fund_loss_share": mean_estimate(self.fund_loss_share),
            "bond_forfeited": mean_estimate(self.bond_forfeited),
            "fund_outlay": mean_estimate(self.fund_outlay),
            "prob_insurer_loss": prob_estimate(self.insurer_result < 0),
            "prob_fund_covers_loss": prob_estimate(self.fund_loss_share > 0),
        }

    def summary(self) -> pd.DataFrame:
        """Tidy table: metric, mean, SE, and the 5 %, 50 %, 95 % quantiles over simulated years."""
        records = []
        per_year = self.frame()
        for name, est in self.metrics().items():
            q = (np.quantile(per_year[name], [0.05, 0.5, 0.95]) if name in per_year
                 else (math.nan, math.nan, math.nan))
            records.append((name, est.value, est.se, *q))
        return pd.DataFrame.from_records(records, columns=["metric", "mean", "se", "q05", "q50", "q95"])

    def to_dict(self) -> dict:
        return {name: est.to_dict() for name, est in self.metrics().items()}

    def plot(self, ax=None, bins: int | None = None):
        """Histogram of the insurer's result per simulated year (yuan), with 0 and the mean marked."""
        ax = _axes(ax)
        result = np.asarray(self.insurer_result, float).ravel()
        ax.hist(result, bins=bins or _bins(result), color="C0", alpha=0.8)
        ax.axvline(0.0, color="C3", lw=1, label="break-even")
        ax.axvline(result.mean(), color="k", ls="--", lw=1, label=f"mean {result.mean():,.0f}")
        ax.set_xlabel("insurer result per simulated year (yuan)")
        ax.set_ylabel("simulated years")
        ax.legend(frameon=False, fontsize=8)
        return ax

    def _repr_html_(self) -> str:
        return (f"<b>Settlement</b> over {self.premium.size} simulated years (yuan per year)"
                + self.summary().set_index("metric").to_html(float_format=lambda v: f"{v:,.4g}"))


def settle(contract: Contract, premium, claims, policy_extra_claims=0.0, score=None) -> Settlement:
    """Settle one contract year for each simulated year.

    Parameters
    ----------
    contract : the contract terms.
    premium, claims : yuan per simulated year (arrays of one length, or scalars).
    policy_extra_claims : claims caused by policy changes in that year, yuan (≥ 0); the policy
        loss is this amount capped at the actual loss.
    score : assessment score(s) 0–100 releasing the performance bond; default the bond's
        ``assumed_score``.

    >>> c = Contract(combined_fee_rate_percent=5, policy_loss_fund_share_percent=60)
    >>> s = settle(c, 100.0, 120.0, policy_extra_claims=15.0)
    >>> float(s.fund_loss_share[0]), float(s.insurer_result[0])   # fund: 60 % of 15; insurer: 40 % of 15 + 5
    (9.0, -11.0)
    """
    premium, claims, extra = np.broadcast_arrays(np.atleast_1d(np.asarray(premium, float)),
                                                 np.atleast_1d(np.asarray(claims, float)),
                                                 np.atleast_1d(np.asarray(policy_extra_claims, float)))
    if np.any(~np.isfinite(premium) | (premium <= 0)):
        raise ValueError("premium must be finite and > 0 yuan in every simulated year")
    if np.any(~np.isfinite(claims) | (claims < 0)):
        raise ValueError("claims must be finite and >= 0 yuan in every simulated year")
    if np.any(~np.isfinite(extra) | (extra < 0)):
        raise ValueError("policy_extra_claims must be finite and >= 0 yuan in every simulated year")
    if score is not None:
        scores = np.atleast_1d(np.asarray(score, float))
        if np.any(~np.isfinite(scores) | (scores < 0) | (scores > 100)):
            # NaN compares false with every release row, which would release the whole bond
            bad = scores[~(np.isfinite(scores) & (scores >= 0) & (scores <= 100))][0]
            raise ValueError(f"score must be a finite assessment score >= 0 and <= 100 (got {float(bad):g})")

    surplus = np.maximum(premium - claims, 0.0)
    loss = np.maximum(claims - premium, 0.0)
    kept, returned = corridor_split(surplus, premium, *contract.surplus_corridor())

    policy = np.minimum(extra, loss)
    other = loss - policy
    share = contract.policy_loss_fund_share_percent / 100
    cap = np.full_like(premium, math.inf)
    if contract.policy_loss_fund_cap_yuan is not None:
        cap = np.minimum(cap, contract.policy_loss_fund_cap_yuan)
    if contract.policy_loss_fund_cap_percent is not None:
        cap = np.minimum(cap, contract.policy_loss_fund_cap_percent / 100 * premium)
    fund_policy = np.minimum(share * policy, cap)
    insurer_policy = np.maximum((1 - share) * policy, policy - cap)
    insurer_other, fund_other = corridor_split(other, premium, *contract.loss_corridor())

    bond = contract.bond
    if bond is None:
        withheld = released = forfeited = np.zeros_like(premium)
    else:
        withheld = bond.withheld_percent / 100 * premium
        fraction = bond.release_fraction(bond.assumed_score if score is None else score)
        released = withheld * fraction
        forfeited = withheld * (1 - fraction)

    result = kept - insurer_policy - insurer_other - forfeited
    out = Settlement(premium, claims, policy, other, kept, returned, fund_policy, fund_other,
                     insurer_policy, insurer_other, withheld, released, forfeited, result)
    out.check_conservation()
    return out
