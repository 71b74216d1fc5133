"""``actuarial fit CLAIMS ENROLMENT``: fit the claims model from experience data and print it.

A thin command over :func:`actuarial.fitting.fit_experience` (which owns reading, checking and
fitting): the severity fits by level, or with ``--format json`` the frequency parameters too.
Bad files exit with status 2 and one line naming the file, the column and the row.
"""

from __future__ import annotations

from ..fitting import fit_experience
from .common import UserError, check_new_files, emit


def add_parser(subparsers) -> None:
    """The ``fit`` subcommand."""
    p = subparsers.add_parser("fit", help="fit frequency and severity from claims and enrolment files (CSV or parquet)")
    p.add_argument("claims", help="claims file: one row per episode (see actuarial.fitting)")
    p.add_argument("enrolment", help="enrolment file: insured person-years by age band, sex and scheme")
    p.add_argument("--min-cell-size", type=int, default=10,
                   help="smallest group of people published or fitted (default %(default)s)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    p.add_argument("--out", default=None, help="write output to this file (never overwrites)")
    p.set_defaults(func=cmd_fit)


def cmd_fit(args) -> int:

    check_new_files(out=args.out)
    if args.min_cell_size < 1:
        raise UserError(f"--min-cell-size must be >= 1 (got {args.min_cell_size})")
    fit = fit_experience(args.claims, args.enrolment, min_cell_size=args.min_cell_size)
    table = fit.severity_table()
    payload = {"claims": str(args.claims), "enrolment": str(args.enrolment), "insured": fit.insured,
               "frequency": fit.frequency_parameters().to_dict("records"), "severity": table.to_dict("records"),
               "notes": list(fit.notes)}
    emit(payload, table, args.format, args.out, f"Severity fits from {args.claims} ({fit.insured:,.0f} insured)")
    return 0
