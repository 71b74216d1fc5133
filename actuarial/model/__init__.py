"""The model's pure steps, each rule written once, in the order of the data flow: random streams
(:mod:`~actuarial.model.rng`, the registry of every purpose), the synthetic population and its risk
cells, claims (episodes), basic insurance, the CII benefit and medical assistance; plus the named
fields of the heavy pass's totals.
Every engine and the exact method call these; engines differ only in how they sample."""
