"""What a reader gets: the HTML page and its blocks (:mod:`~actuarial.report.page`), the tender
committee's bid report (:mod:`~actuarial.report.bids`) and the numbers behind it
(:mod:`~actuarial.report.bid_stats`), Excel workbooks (:mod:`~actuarial.report.excel`) and the house
number formats (:mod:`~actuarial.report.display`). The charts of single results live with the
results (:mod:`actuarial.results.plots`), which sit below this layer."""
