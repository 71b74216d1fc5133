"""The model's pure steps, each rule written once, in the order of the data flow: random streams
(:mod:`~actuarial.model.rng`, the registry of every purpose), the synthetic population, claims
(episodes), basic insurance and the CII benefit; plus the named fields of the heavy pass's totals.
Every engine and the exact method call these; engines differ only in how they sample."""
