"""What one scenario's simulated years give: the simulation result and ``simulate``
(:mod:`~actuarial.results.simulation`), premium calibration and the inverse problem
(:mod:`~actuarial.results.calibration`), the legal checks on a result
(:mod:`~actuarial.results.compliance`), household catastrophic expenditure
(:mod:`~actuarial.results.households`) and the charts every result draws
(:mod:`~actuarial.results.plots`). The SE formulas live in :mod:`actuarial.estimates`."""
