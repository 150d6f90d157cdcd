"""escalate(): one unresolved escalation per conversation, also under concurrent calls."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.db import session_scope
from crm.models import Escalation, EscalationEvent, EscalationReason, EscalationStatus
from crm.services.escalations import escalate


def _escalate(factory, conversation_id: str, reason=EscalationReason.HUMAN_REQUEST):
    with session_scope(factory) as session:
        return escalate(session, conversation_id=conversation_id, channel="rest", reason=reason)


def _count(factory, **filters) -> int:
    with session_scope(factory) as session:
        query = select(func.count()).select_from(Escalation).filter_by(**filters)
        return session.execute(query).scalar_one()


def test_first_call_creates_an_open_escalation_with_an_audit_event(session_factory):
    result = _escalate(session_factory, "conv-1", EscalationReason.COMPLAINT)
    assert result.created and result.status is EscalationStatus.OPEN
    with session_scope(session_factory) as session:
        escalation = session.get(Escalation, result.escalation_id)
        assert escalation.reason is EscalationReason.COMPLAINT
        assert escalation.created_at is not None
        events = session.execute(select(EscalationEvent)).scalars().all()
        assert [(e.from_status, e.to_status) for e in events] == [(None, EscalationStatus.OPEN)]


def test_second_call_returns_the_same_escalation(session_factory):
    first = _escalate(session_factory, "conv-2")
    second = _escalate(session_factory, "conv-2", EscalationReason.FALLBACK)
    assert not second.created and second.escalation_id == first.escalation_id
    assert _count(session_factory, conversation_id="conv-2") == 1


def test_a_resolved_escalation_allows_a_new_one(session_factory):
    first = _escalate(session_factory, "conv-3")
    with session_scope(session_factory) as session:
        session.get(Escalation, first.escalation_id).status = EscalationStatus.RESOLVED
    second = _escalate(session_factory, "conv-3")
    assert second.created and second.escalation_id != first.escalation_id


def test_database_refuses_a_second_unresolved_escalation(session_factory):
    _escalate(session_factory, "conv-4")
    with pytest.raises(IntegrityError):
        with session_scope(session_factory) as session:
            session.add(
                Escalation(
                    conversation_id="conv-4",
                    channel="rest",
                    reason=EscalationReason.ERROR,
                    status=EscalationStatus.CLAIMED,
                )
            )


def test_rejects_unknown_reason_and_empty_conversation(session_factory):
    with pytest.raises(ValueError):
        _escalate(session_factory, "conv-5", reason="bored")
    with pytest.raises(ValueError):
        _escalate(session_factory, "")


def test_concurrent_calls_create_exactly_one(session_factory):
    workers = 16
    barrier = threading.Barrier(workers)

    def call(index: int):
        barrier.wait()
        return _escalate(session_factory, "conv-race", EscalationReason.FALLBACK)

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(call, range(workers)))

    assert sum(r.created for r in results) == 1
    assert len({r.escalation_id for r in results}) == 1
    assert _count(session_factory, conversation_id="conv-race") == 1
    with session_scope(session_factory) as session:
        assert session.execute(select(func.count()).select_from(EscalationEvent)).scalar_one() == 1


def test_concurrent_calls_for_many_conversations(session_factory):
    conversations = [f"conv-{i % 25}" for i in range(200)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda c: (c, _escalate(session_factory, c)), conversations))
    ids = {}
    for conversation, result in results:
        ids.setdefault(conversation, set()).add(result.escalation_id)
    assert all(len(v) == 1 for v in ids.values())
    assert _count(session_factory) == 25


def test_fifty_concurrent_escalations_of_different_conversations_give_fifty_items(session_factory):
    workers = 50
    barrier = threading.Barrier(workers)

    def call(index: int):
        barrier.wait()
        return _escalate(session_factory, f"conv-fifty-{index}", EscalationReason.CASE_REPORT)

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(call, range(workers)))
    assert all(r.created for r in results) and len({r.escalation_id for r in results}) == 50
    assert _count(session_factory, status=EscalationStatus.OPEN) == 50


def test_a_flood_of_unverified_escalations_from_one_address_is_merged_and_others_are_untouched(session_factory):
    def from_client(conversation, client, customer_id=None):
        with session_scope(session_factory) as session:
            return escalate(
                session,
                conversation_id=conversation,
                channel="rest",
                client=client,
                client_limit=3,
                customer_id=customer_id,
                reason=EscalationReason.HUMAN_REQUEST,
            )

    results = [from_client(f"rest:flood-{n}", "ip:attacker") for n in range(50)]
    assert sum(r.created for r in results) == 3
    assert _count(session_factory, client="ip:attacker") == 3
    with session_scope(session_factory) as session:
        newest = session.get(Escalation, results[2].escalation_id)
        assert newest.merged_count == 47 and "rest:flood-3" in newest.summary
        assert newest.summary.count("Digabung") == 20  # named up to a bound, the rest only counted
    assert from_client("rest:customer", "ip:someone-else").created  # another address: its own item
