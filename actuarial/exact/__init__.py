"""Exact methods, no sampling: the compound distribution of one person's annual accumulation by FFT
(:mod:`~actuarial.exact.compound`), the control variate the engines subtract
(:mod:`~actuarial.exact.control`), the law of a whole pool's annual claims
(:mod:`~actuarial.exact.pool`) and its mixture over year shocks (:mod:`~actuarial.exact.shocks`).
They read the same rules as the engines, from :mod:`actuarial.model`."""
