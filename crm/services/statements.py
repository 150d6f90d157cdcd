"""The statement of account ("kartu piutang", "rincian pembayaran") of one contract, and its PDF.

One line per instalment: due date, amount, when and through which channel it was paid (from the
`payments` table), its late fee, its state; then what was paid, what is still outstanding and the
late fees still open. Built from `accounts.instalment_lines`, so it agrees with every other answer
about the contract. The PDF holds the verified customer's own contract and nothing else; its
words are `utter_line_statement_*` responses in domain.yml.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Dict, List, Optional

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.clock import to_local
from crm.formatting import rupiah, short_date
from crm.models import Payment
from crm.responses import render
from crm.services.accounts import instalment_lines, load_contract
from crm.services.payments import payment_channels


@dataclass(frozen=True)
class StatementLine:
    sequence: int
    due_date: date
    amount: int
    paid_on: Optional[date]
    channel: str  # the channel's title, "" when unpaid
    reference: str
    late_fee: int
    state: str  # paid | overdue | due | paid_in_flight


@dataclass(frozen=True)
class Statement:
    contract_id: int
    number: str
    customer_name: str
    vehicle: str
    plate_number: str
    virtual_account: str
    as_of: date
    monthly_amount: int
    tenor: int
    lines: List[StatementLine]
    paid_total: int
    outstanding: int  # unpaid instalments, without late fees
    open_late_fees: int  # accrued on overdue instalments not yet posted
    paid_late_fees: int  # charged on instalments paid late


def statement(session: Session, customer_id: int, number: str, today: date) -> Statement:
    """The statement of `number` (held by `customer_id`) as of `today`."""
    contract = load_contract(session, customer_id, number)
    payments = (
        session.execute(select(Payment).where(Payment.contract_id == contract.id).order_by(Payment.paid_at))
        .scalars()
        .all()
    )
    by_instalment: Dict[int, Payment] = {p.instalment.sequence: p for p in payments if p.instalment is not None}
    channels = payment_channels()
    lines = []
    for line in instalment_lines(contract, today):
        payment = by_instalment.get(line.sequence)
        if line.paid:
            state = "paid"
        elif payment is not None:  # paid by the customer, not yet posted
            state = "paid_in_flight"
        else:
            state = "overdue" if line.overdue else "due"
        channel = channels.get(payment.channel) if payment is not None else None
        lines.append(
            StatementLine(
                sequence=line.sequence,
                due_date=line.due_date,
                amount=line.amount,
                paid_on=to_local(payment.paid_at).date() if payment is not None else None,
                channel=(channel.title if channel else payment.channel) if payment is not None else "",
                reference=payment.reference if payment is not None else "",
                late_fee=line.late_fee,
                state=state,
            )
        )
    unpaid = [line for line in lines if line.state != "paid"]
    return Statement(
        contract_id=contract.id,
        number=contract.number,
        customer_name=contract.customer.name,
        vehicle=f"{contract.vehicle_brand} {contract.vehicle_model} ({contract.vehicle_year})",
        plate_number=contract.plate_number,
        virtual_account=f"{contract.virtual_account_bank or ''} {contract.virtual_account or ''}".strip(),
        as_of=today,
        monthly_amount=contract.monthly_instalment,
        tenor=contract.tenor_months,
        lines=lines,
        paid_total=sum(line.amount for line in lines if line.state == "paid"),
        outstanding=sum(line.amount for line in unpaid),
        open_late_fees=sum(line.late_fee for line in unpaid),
        paid_late_fees=sum(line.late_fee for line in lines if line.state == "paid"),
    )


def _latin1(text: str) -> str:
    """PDF core fonts are Latin-1: accents kept where they exist, other letters reduced to ASCII."""
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            out.append(unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?")
    return "".join(out)


COLUMNS = (("sequence", 10), ("due", 26), ("amount", 30), ("paid_on", 26), ("channel", 38), ("fee", 24), ("state", 36))
STATES = ("paid", "paid_in_flight", "overdue", "due")
TOTALS = ("paid_total", "outstanding", "open_late_fees", "paid_late_fees")
# every utter_line_statement_<key> the PDF uses (make validate checks domain.yml has them)
WORDS = (
    ("title", "customer", "vehicle", "terms", "virtual_account", "as_of", "footer")
    + tuple(f"column_{key}" for key, _ in COLUMNS)
    + tuple(f"state_{state}" for state in STATES)
    + TOTALS
)


def _word(key: str, **values: Any) -> str:
    if key not in WORDS:
        raise KeyError(f"statement word {key!r} is not listed in WORDS")
    return _latin1(render(f"utter_line_statement_{key}", **values))


def render_pdf(statement: Statement, issued_at: datetime, brand: str) -> bytes:
    """The statement as an A4 PDF (fpdf2, core fonts): header, one row per instalment, totals."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(_word("title", contract_number=statement.number))
    pdf.set_author(_latin1(brand))
    pdf.set_creation_date(issued_at)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, _latin1(brand), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _word("title", contract_number=statement.number), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    header = [
        _word("customer", debtor=statement.customer_name),
        _word("vehicle", vehicle=statement.vehicle, plate=statement.plate_number),
        _word("terms", monthly=rupiah(statement.monthly_amount), tenor=statement.tenor),
        _word("virtual_account", va=statement.virtual_account or "-"),
        _word("as_of", as_of=short_date(statement.as_of), issued=f"{issued_at:%d-%m-%Y %H.%M}"),
    ]
    for line in header:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 8)
    for key, width in COLUMNS:
        pdf.cell(width, 6, _word(f"column_{key}"), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for row in statement.lines:
        values = {
            "sequence": str(row.sequence),
            "due": short_date(row.due_date),
            "amount": rupiah(row.amount),
            "paid_on": short_date(row.paid_on) if row.paid_on else "-",
            "channel": row.channel or "-",
            "fee": rupiah(row.late_fee) if row.late_fee else "-",
            "state": _word(f"state_{row.state}"),
        }
        for key, width in COLUMNS:
            pdf.cell(width, 5, _latin1(values[key]), border=1)
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 9)
    for name in TOTALS:
        pdf.cell(0, 5, _word(name, amount=rupiah(getattr(statement, name))), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.ln(2)
    pdf.multi_cell(0, 4, _word("footer"))
    return bytes(pdf.output())


def filename(statement: Statement) -> str:
    return f"rincian-pembayaran-{statement.number}-{statement.as_of:%Y%m%d}.pdf"
