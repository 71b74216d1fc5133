"""The engines: one driver (:mod:`~actuarial.engines.driver`: engine choice, the accumulation floor,
work units and progress), the heavy pass's output every engine returns
(:mod:`~actuarial.engines.accumulations`), the brute-force pass and the dispatch
(:func:`actuarial.engines.engine.accumulate`), the fast engine (:mod:`~actuarial.engines.fast`), the
array-backend engine (:mod:`~actuarial.engines.gpu`), the designs that share one heavy pass
(:mod:`~actuarial.engines.crn`), Dask scale-out (:mod:`~actuarial.engines.parallel`) and the memory
preflight (:mod:`~actuarial.engines.preflight`). They
differ only in how they sample; the rules they apply live in :mod:`actuarial.model`."""
