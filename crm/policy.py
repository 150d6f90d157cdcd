"""Business rules of the financing company, in one place (amounts in rupiah)."""

from __future__ import annotations

LATE_FEE_RATE_PER_DAY = 0.002  # 0.2 % of the overdue instalment per day
BPKB_READY_AFTER_DAYS = 14  # after the last instalment is paid the BPKB reaches the branch
BPKB_LOAN_MAX_DAYS = 14  # a BPKB borrowed for STNK renewal must be back within
BPKB_LOAN_FEE = 150_000  # admin fee for borrowing the BPKB
BPKB_LOAN_DEPOSIT = 0  # no deposit while the contract is in good standing
DUE_DATE_CHANGE_FEE = 100_000  # admin fee for moving the due date
DUE_DATE_CHANGE_INTERVAL_DAYS = 365  # at most one change in 12 months
# the first moved due date is at least this far ahead: staff confirm the request within 2 working
# days, and the customer needs time to pay (25 Dec -> "tgl 5" asked on 4 Dec is 5 Jan, not 5 Dec)
DUE_DATE_CHANGE_NOTICE_DAYS = 7
MIN_DUE_DAY, MAX_DUE_DAY = 1, 28
MAX_VERIFICATION_ATTEMPTS = 3  # per conversation; then it is locked and escalated
# Across conversations and channels (crm.services.verification): a contract locks after this
# many failures in the window, for the lock period or until staff release it; a client address
# is slowed after SLOW_AFTER failures in its window and refused after MAX_FAILURES.
VERIFY_CONTRACT_MAX_FAILURES = 5
VERIFY_CONTRACT_WINDOW_HOURS = 24
VERIFY_CONTRACT_LOCK_HOURS = 24
VERIFY_CLIENT_WINDOW_MINUTES = 60
VERIFY_CLIENT_SLOW_AFTER = 3
VERIFY_CLIENT_MAX_FAILURES = 10
VERIFY_CLIENT_MAX_DELAY_SECONDS = 8  # below ACTION_TIMEOUT_SECONDS
# website verification's one-time code, sent to the contract's WhatsApp number
CODE_DIGITS = 6
CODE_VALID_MINUTES = 5
CODE_MAX_ATTEMPTS = 3  # per code; each wrong one also counts against the contract like a wrong birth date
CODES_PER_CONTRACT_PER_HOUR = 3  # more requests get the same answer, but no new message
# Escalations of unverified conversations from one client address within an hour: beyond this
# many, further ones are merged into the newest item (a flood of "mau bicara dengan cs"). The
# setting ESCALATIONS_PER_CLIENT_PER_HOUR overrides it (many customers behind one NAT).
ESCALATIONS_PER_CLIENT_PER_HOUR = 30
APPOINTMENT_HORIZON_DAYS = 45  # appointments may be booked this far ahead
EARLY_SETTLEMENT_FEE_RATE = 0.03  # of the principal still outstanding, when a credit is paid off early
PAYOFF_DAYS_AHEAD = 30  # a payoff figure may be asked for a day up to this far ahead
# a payment made before the due date through a channel that posts later is not charged a late fee
NO_LATE_FEE_FOR_POSTING_DELAY = True

# Intents that file a complaint, escalate to staff or start a case form: acted on only when the
# classifier is sure (config.yml: CertaintyGate thresholds), else the customer is asked first.
COSTLY_INTENTS = frozenset(
    {
        "complain",
        "request_human",
        "report_insurance_claim",
        "report_vehicle_theft",
        "report_debtor_deceased",
        "request_credit_takeover",
    }
)
COSTLY_CONFIRM_FLOOR = 0.4  # a weaker guess than this is not worth a question: ask to rephrase
# an unsure message's candidates at or above this are offered as topic buttons (at most two)
SUGGEST_TOPIC_FLOOR = 0.2
# "cicilan saya brp, K10124000001 lahir 17-08-1985": the question around the credentials is
# answered after verification when the meaning classifier gives its account topic at least this
QUESTION_WITH_CREDENTIALS_FLOOR = 0.5

# Documents and proofs: a statement link works for STATEMENT_LINK_MINUTES, in the
# conversation it was made for only; a payment proof (photo, screenshot, PDF) is kept up to
# MAX_PROOF_BYTES, sent within PROOF_WAIT_DAYS of the payment_dispute case it belongs to.
STATEMENT_LINK_MINUTES = 30
MAX_PROOF_BYTES = 10 * 1024 * 1024
PROOF_WAIT_DAYS = 7
PROOF_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})


def late_fee(amount: int, days_late: int) -> int:
    """The late fee for one instalment paid (or still unpaid) `days_late` days after its due date."""
    return int(round(amount * LATE_FEE_RATE_PER_DAY * max(days_late, 0)))


# OJK consumer-protection timing for complaints: verbal ones resolved within 5 working days,
# written ones within 10. A chat typed on the website or WhatsApp is a written complaint; a
# phone or video call is a verbal one. Every escalation gets the due time of its form.
OJK_RESOLUTION_WORKING_DAYS = {"verbal": 5, "written": 10}
WRITTEN_CHANNELS = frozenset({"whatsapp", "socketio", "rest", "cmdline", "email"})

# Console logins (crm.services.staff): failures are counted per (username, address): each one
# past LOGIN_SLOW_AFTER waits longer, and LOGIN_MAX_FAILURES lock that pair for the window. An
# address guessing across usernames is locked after LOGIN_MAX_FAILURES_PER_CLIENT. A username
# attacked from many addresses (LOGIN_MAX_FAILURES_PER_USERNAME) is refused from addresses it
# never logged in from, while its usual addresses keep working: nobody can lock staff out.
LOGIN_SLOW_AFTER = 2
LOGIN_MAX_DELAY_SECONDS = 8
LOGIN_MAX_FAILURES = 5
LOGIN_MAX_FAILURES_PER_CLIENT = 20
LOGIN_MAX_FAILURES_PER_USERNAME = 30
LOGIN_FAILURE_WINDOW_MINUTES = 15
LOGIN_USUAL_ADDRESS_DAYS = 60
STAFF_SESSION_HOURS = 10  # one working shift
MIN_STAFF_PASSWORD_LENGTH = 10


def complaint_form(channel: str) -> str:
    """'written' for typed channels, 'verbal' for spoken ones (OJK's two complaint forms)."""
    return "written" if channel in WRITTEN_CHANNELS else "verbal"


# --- satisfaction surveys (crm/services/satisfaction.py) ---
# A customer is asked at most once per CSAT_QUIET_HOURS (by conversation, and by customer once
# verified), so never twice in a day, and never reminded. A rating counts for the question asked
# within CSAT_ANSWER_HOURS; after a low rating (at most CSAT_LOW), what the customer writes within
# CSAT_COMMENT_MINUTES that the bot does not understand is kept as the comment. Satisfied: at
# least CSAT_SATISFIED (CSAT = satisfied / ratings).
CSAT_QUIET_HOURS = 24
CSAT_ANSWER_HOURS = 24
CSAT_COMMENT_MINUTES = 10
CSAT_LOW = 2
CSAT_SATISFIED = 4
CSAT_SCORES = (5, 3, 1)  # the buttons: membantu, biasa saja, kurang membantu
