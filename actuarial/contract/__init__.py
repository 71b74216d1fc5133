"""The contract between the fund and the insurer: one year's settlement (surplus return, loss
sharing, the fee cap; :mod:`~actuarial.contract.settlement`), the design in each contract year
(:mod:`~actuarial.contract.projection`), multi-year contracts (:mod:`~actuarial.contract.multiyear`),
several pools under one contract (:mod:`~actuarial.contract.pools`), the exact risk view
(:mod:`~actuarial.contract.risk`, :mod:`~actuarial.contract.exact_metrics`) and bids compared on common
random numbers (:mod:`~actuarial.contract.bids`)."""
