"""``actuarial compare``: rank tender bids on one simulated population (table, JSON, CSV, xlsx, PNG)."""

from __future__ import annotations

import argparse

from ..contract.bids import CRITERIA, Bid, _weights, compare_bids, load_bid
from ..engines.preflight import check_run
from .common import (
    UserError,
    add_common,
    check_counts,
    check_new_files,
    emit,
    engine_options,
    write_output,
)


def parse_weights(text: str | None) -> dict[str, float] | None:
    """``"fund_outlay_per_capita=2,actual_payment_ratio=1"`` → dict; None stays None."""
    if not text:
        return None
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise UserError(f"--weights: expected criterion=number pairs separated by commas (got {part!r}); "
                            f"criteria: {', '.join(CRITERIA)}")
    return out


def _preflight(args) -> list[Bid]:
    """The bids loaded (errors before any work) and the comparison checked against memory and replicates."""
    bids = [load_bid(b) for b in args.bids]
    if args.size is not None:
        bids = [Bid(b.name, b.scenario.replace(**{"population.size": args.size}), b.path, b.notes) for b in bids]
    check_run(bids[0].scenario, args.years, args.engine, args.workers, designs=len(bids))
    return bids


def cmd_compare(args) -> int:
    check_new_files(out=args.out, png=args.png)
    check_counts(args)
    try:
        weights = _weights(parse_weights(args.weights))  # refused before any work
    except UserError:
        raise
    except ValueError as err:
        raise UserError(f"--weights: {err}") from None
    bids = _preflight(args)
    with engine_options(args) as kw:
        cmp = compare_bids(bids, args.years, args.seed, weights, **kw)
    table = cmp.brief() if args.format == "table" else cmp.ranked()
    emit(cmp.to_dict(), table, args.format, args.out, inputs=cmp.outcomes[0].bid.scenario)
    if args.png:
        import sys

        import matplotlib

        matplotlib.use("Agg")
        fig = cmp.plot()
        write_output(args.png, lambda p: fig.savefig(p, dpi=120, format="png"), "png")
        print(f"wrote {args.png}", file=sys.stderr)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """The ``actuarial compare BID.toml ...`` subcommand."""
    p = subparsers.add_parser("compare", help="compare tender bids on the same simulated population (ranked table)")
    p.add_argument("bids", nargs="+", help="bid TOML files sharing one base scenario")
    add_common(p)
    p.add_argument("--weights", default=None,
                   help=f"committee weights criterion=w,... (criteria: {', '.join(CRITERIA)}; default equal)")
    p.add_argument("--png", default=None, help="also save bar/box plots to this PNG (never overwrites)")
    p.set_defaults(func=cmd_compare)
