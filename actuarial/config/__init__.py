"""What a scenario is written in and refers to, below the scenario schema: dotted field paths
(:mod:`~actuarial.config.paths`), the frequency and severity families a scenario names
(:mod:`~actuarial.config.distributions`, :mod:`~actuarial.config.severities`; the schema builds them
to validate them), the default tables with their sources (:mod:`~actuarial.config.tables`) and the
national income series indexed amounts refer to (:mod:`~actuarial.config.income`)."""
