"""Outbound WhatsApp (issue 18): templates, audiences, the approval workflow, consent, the
sender against a fake Graph API on loopback, and delivery statuses."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from channels.whatsapp.cloud import CloudApi
from crm.db import session_scope
from crm.models import (
    AuditEntry,
    CampaignRecipient,
    CampaignStatus,
    Contract,
    ContractStatus,
    Customer,
    Instalment,
    MessageTemplate,
    RecipientStatus,
    StaffRole,
    TemplateStatus,
    WhatsAppContact,
    WhatsAppStatus,
)
from crm.runtime.campaign_sender import Sender, sync_templates
from crm.services import audiences, campaigns, consent, templates
from crm.services.staff import create_staff
from crm.settings import load_settings
from tests.conftest import SEED_TODAY
from tests.fake_graph import ACCESS_TOKEN, FakeGraph

NOW = datetime(2026, 11, 22, 3, 0)  # 10.00 WIB on the seed's "today"


# --- templates -------------------------------------------------------------------------------


def test_the_templates_file_is_well_formed_and_every_default_field_exists():
    specs = templates.read_file()
    assert {s.name for s in specs} >= {"autodebit_hari_libur", "pengingat_jatuh_tempo", "ucapan_hari_raya"}
    offered = {f for a in audiences.list_audiences() for f in a.fields}
    for spec in specs:
        fields = {
            "campaigns": offered,
            "agents": set(templates.AGENT_FIELDS),
            "verification": {"code"},
            "surveys": set(templates.SURVEY_FIELDS),
        }[spec.use]
        assert all(p in fields for p in spec.parameters if p), spec.name
    assert [s.name for s in specs if s.use == "agents"] == ["balasan_petugas"]


@pytest.mark.parametrize(
    "raw, problem",
    [
        ({"name": "Bad Name", "category": "utility", "body": "x"}, "a-z"),
        ({"name": "a", "category": "promo", "body": "x"}, "utility, marketing or authentication"),
        ({"name": "a", "category": "authentication", "body": "{{1}}", "parameters": ["x"], "examples": ["1"]}, "code"),
        (
            {
                "name": "a",
                "category": "utility",
                "body": "Hi {{1}} {{3}}",
                "parameters": ["x", "y"],
                "examples": ["1", "2"],
            },
            "gaps",
        ),
        ({"name": "a", "category": "utility", "body": "Hi {{1}}", "parameters": [], "examples": []}, "placeholder"),
        ({"name": "a", "category": "utility", "body": "x" * 1025}, "1024"),
        ({"name": "a", "category": "utility", "body": "x", "buttons": [{"text": "y" * 26}]}, "button"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(tmp_path, raw, problem):
    path = tmp_path / "t.yml"
    import yaml

    path.write_text(yaml.safe_dump({"templates": [raw]}))
    with pytest.raises(templates.TemplateFileError, match=problem):
        templates.read_file(path)


def test_meta_state_counts_only_for_our_text_and_an_edit_needs_a_new_approval(session_factory):
    spec = templates.read_file()[0]
    with session_scope(session_factory) as db:
        (row,) = templates.load(db, [spec])
        assert row.status is TemplateStatus.NOT_SUBMITTED
        templates.apply_meta(
            db,
            [
                {
                    "name": spec.name,
                    "language": "id",
                    "status": "APPROVED",
                    "id": "77",
                    "components": [{"type": "BODY", "text": spec.body}],
                }
            ],
            NOW,
        )
        assert row.status is TemplateStatus.APPROVED and row.meta_id == "77"
        templates.apply_meta(db, [{"name": spec.name, "language": "id", "status": "PAUSED", "id": "77"}], NOW)
        assert row.status is TemplateStatus.PAUSED
        templates.apply_meta(
            db,
            [
                {
                    "name": spec.name,
                    "language": "id",
                    "status": "APPROVED",
                    "id": "77",
                    "components": [{"type": "BODY", "text": "another text"}],
                }
            ],
            NOW,
        )
        assert row.status is TemplateStatus.NOT_SUBMITTED
        edited = dataclasses.replace(spec, body=spec.body + " Terima kasih.")
        templates.apply_meta(db, [{"name": spec.name, "language": "id", "status": "APPROVED", "id": "77"}], NOW)
        templates.load(db, [edited])
        assert row.status is TemplateStatus.NOT_SUBMITTED and "ulang" in row.reason


# --- audiences (the seeded database: 200 customers, today 2026-11-22) --------------------------


def test_autodebit_on_holiday_is_every_autodebit_contract_due_on_christmas_weekend(seeded_engine):
    """By hand: 25 Dec 2026 is Christmas (Friday), 26-27 Dec a weekend; due days are 1-28, so the
    active autodebit contracts due on day 25, 26 or 27 of December are the audience, debited on
    Thursday 24 December."""
    factory = __import__("crm.db", fromlist=["x"]).make_session_factory(seeded_engine)
    with session_scope(factory) as db:
        found = list(
            audiences.members(db, "autodebit_holiday", {"start": "2026-12-21", "end": "2026-12-31"}, SEED_TODAY, "Uji")
        )
        expected = set(
            db.execute(
                select(Contract.customer_id)
                .join(Instalment, Instalment.contract_id == Contract.id)
                .where(
                    Contract.status == ContractStatus.ACTIVE,
                    Contract.autodebit_bank.isnot(None),
                    Contract.due_day.in_([25, 26, 27]),
                    Instalment.paid_at.is_(None),
                    Instalment.due_date.between(date(2026, 12, 25), date(2026, 12, 27)),
                )
            ).scalars()
        )
        budi = next(m for m in found if m.customer_id == 1)
    assert {m.customer_id for m in found} == expected and len(expected) >= 5
    assert budi.values["due_date"] == "Jumat, 25 Desember 2026"
    assert budi.values["holiday_name"] == "Hari Raya Natal"
    assert budi.values["debit_date"] == "Kamis, 24 Desember 2026"
    assert budi.notice == {
        "kind": "autodebit_moved",
        "contract": "K10124000001",
        "due_date": "2026-12-25",
        "debit_date": "2026-12-24",
    }
    assert {m.notice["debit_date"] for m in found} == {"2026-12-24"}


def test_due_in_days_leaves_out_autodebit_and_arrears_unless_chosen(seeded_engine):
    factory = __import__("crm.db", fromlist=["x"]).make_session_factory(seeded_engine)
    with session_scope(factory) as db:
        for days in range(0, 20):
            plain = list(audiences.members(db, "due_in_days", {"days": days}, SEED_TODAY, "Uji"))
            wide = list(
                audiences.members(db, "due_in_days", {"days": days, "include_arrears": "true"}, SEED_TODAY, "Uji")
            )
            assert {m.customer_id for m in plain} <= {m.customer_id for m in wide}
            for member in wide:
                contract = db.get(Contract, member.contract_id)
                assert contract.autodebit_bank is None and contract.status is ContractStatus.ACTIVE
                due = SEED_TODAY + timedelta(days=days)
                assert any(i.due_date == due and i.paid_at is None for i in contract.instalments)
                late = any(i.due_date < SEED_TODAY and i.paid_at is None for i in contract.instalments)
                assert late == (member.customer_id not in {m.customer_id for m in plain}) or not late
        # Siti (K20123000002, due day 10, two instalments unpaid) is in arrears: only when chosen
        siti_days = (date(2026, 12, 10) - SEED_TODAY).days
        plain = {m.customer_id for m in audiences.members(db, "due_in_days", {"days": siti_days}, SEED_TODAY, "Uji")}
        wide = {
            m.customer_id
            for m in audiences.members(
                db, "due_in_days", {"days": siti_days, "include_arrears": "1"}, SEED_TODAY, "Uji"
            )
        }
    assert 2 not in plain and 2 in wide


def test_holiday_hours_audience_follows_the_holiday_overrides(seeded_engine):
    factory = __import__("crm.db", fromlist=["x"]).make_session_factory(seeded_engine)
    with session_scope(factory) as db:
        christmas = list(audiences.members(db, "holiday_service_hours", {"day": "2026-12-25"}, SEED_TODAY, "Uji"))
        ordinary = list(audiences.members(db, "holiday_service_hours", {"day": "2026-12-09"}, SEED_TODAY, "Uji"))
        active = db.execute(
            select(func.count(func.distinct(Contract.customer_id))).where(Contract.status == ContractStatus.ACTIVE)
        ).scalar_one()
    assert ordinary == []
    assert len(christmas) == active  # every branch closes on Christmas in the seed
    assert {m.values["branch_hours"] for m in christmas} == {"tutup"}


def test_audience_options_are_checked():
    audience = audiences.AUDIENCES["autodebit_holiday"]
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        audiences.parse_options(audience, {"start": "besok"}, SEED_TODAY)
    with pytest.raises(ValueError, match="sebelum"):
        audiences.parse_options(audience, {"start": "2026-12-10", "end": "2026-12-01"}, SEED_TODAY)
    with pytest.raises(ValueError, match="angka"):
        audiences.parse_options(audiences.AUDIENCES["due_in_days"], {"days": "tiga"}, SEED_TODAY)


# --- consent ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, command",
    [
        ("STOP", "opt_out_marketing"),
        ("berhenti!", "opt_out_marketing"),
        ("/opt_out_marketing", "opt_out_marketing"),
        ("stop semua", "opt_out_all"),
        ("/opt_out_reminders", "opt_out_all"),
        ("Mulai", "opt_in"),
        ("START", "opt_in"),
        ("stop dulu ya saya mau tanya", None),
        ("berhenti kredit gimana", None),
        ("halo", None),
    ],
)
def test_consent_words_are_whole_messages(text, command):
    assert consent.command(text) == command


def test_who_may_get_what_after_stop():
    contact = WhatsAppContact(customer_id=1, opted_in_at=NOW)
    phone = "+6281210000001"
    assert consent.exclusion(contact, phone, "marketing", False) is None
    contact.marketing_opt_out_at = NOW
    assert consent.exclusion(contact, phone, "marketing", False) == "opted_out"
    assert consent.exclusion(contact, phone, "reminder", False) is None
    assert consent.exclusion(contact, phone, "notice", False) == "opted_out"
    assert consent.exclusion(contact, phone, "notice", True) is None
    contact.reminders_opt_out_at = NOW
    assert consent.exclusion(contact, phone, "reminder", False) == "opted_out"
    assert consent.exclusion(None, phone, "notice", False) == "no_consent"
    assert consent.exclusion(contact, "+62215000000", "notice", True) == "no_whatsapp"


# --- the workflow ----------------------------------------------------------------------------


@pytest.fixture
def team(demo_db):
    with session_scope(demo_db) as db:
        ids = {
            role: create_staff(db, role, role.title(), "a long enough password 1", role).id
            for role in ("analyst", "department_head", "corporate_secretary", "supervisor", "agent")
        }
        templates.load(db, templates.read_file())
        for row in templates.all_templates(db):
            row.status = TemplateStatus.APPROVED
    return ids


def staff(db, team, role):
    from crm.models import Staff

    return db.get(Staff, team[role])


def template_id(db, name):
    return db.execute(select(MessageTemplate.id).where(MessageTemplate.name == name)).scalar_one()


def draft(db, team, name="autodebit_hari_libur", audience="autodebit_holiday", options=None, role="analyst", **extra):
    template = db.get(MessageTemplate, template_id(db, name))
    return campaigns.save(
        db,
        staff(db, team, role),
        name=f"Uji {name}",
        template_id=template.id,
        parameters=extra.pop(
            "parameters",
            campaigns.default_parameters(template)
            if name != "ucapan_hari_raya"
            else ["{customer_name}", "Selamat Natal!", "{brand_name}"],
        ),
        audience=audience,
        options=options if options is not None else {"start": "2026-12-21", "end": "2026-12-31"},
        send_at=NOW + timedelta(hours=1),
        today=SEED_TODAY,
        now=NOW,
        **extra,
    )


def test_drafted_by_an_analyst_approved_by_the_head_and_audited(demo_db, team):
    with session_scope(demo_db) as db:
        campaign = draft(db, team)
        with pytest.raises(campaigns.CampaignError, match="menunggu persetujuan"):
            campaigns.approve(db, staff(db, team, "department_head"), campaign.id, NOW)
        campaigns.submit(db, staff(db, team, "analyst"), campaign.id, NOW)
        with pytest.raises(campaigns.CampaignError, match="tidak boleh"):
            campaigns.approve(db, staff(db, team, "analyst"), campaign.id, NOW)
        with pytest.raises(campaigns.CampaignError, match="tidak memerlukan"):
            campaigns.approve(db, staff(db, team, "corporate_secretary"), campaign.id, NOW)
        campaigns.approve(db, staff(db, team, "department_head"), campaign.id, NOW)
        assert campaign.status is CampaignStatus.APPROVED
        actions = db.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[-3:] == ["campaign_draft", "campaign_submit", "campaign_approve"]


def test_marketing_needs_the_corporate_secretary_and_a_change_resets_approvals(demo_db, team):
    with session_scope(demo_db) as db:
        campaign = draft(db, team, "ucapan_hari_raya", "all_active", {})
        campaigns.submit(db, staff(db, team, "analyst"), campaign.id, NOW)
        campaigns.approve(db, staff(db, team, "department_head"), campaign.id, NOW)
        assert campaign.status is CampaignStatus.SUBMITTED
        campaigns.approve(db, staff(db, team, "corporate_secretary"), campaign.id, NOW)
        assert campaign.status is CampaignStatus.APPROVED
        draft(
            db,
            team,
            "ucapan_hari_raya",
            "all_active",
            {},
            campaign_id=campaign.id,
            parameters=["{customer_name}", "Selamat Tahun Baru!", "{brand_name}"],
        )
        assert campaign.status is CampaignStatus.DRAFT and campaign.version == 2
        assert campaigns.current_approvals(campaign) == {}


def test_nobody_approves_their_own_draft(demo_db, team):
    with session_scope(demo_db) as db:
        # a supervisor drafts; the head changes... no: heads cannot draft; a head who is also the
        # drafter is impossible, so check the last editor rule through a supervisor's change
        campaign = draft(db, team, role="supervisor")
        campaigns.submit(db, staff(db, team, "supervisor"), campaign.id, NOW)
        campaign.created_by_id = team["department_head"]  # as if the head had drafted it
        with pytest.raises(campaigns.CampaignError, match="sendiri"):
            campaigns.approve(db, staff(db, team, "department_head"), campaign.id, NOW)


def test_bad_drafts_are_refused_with_reasons(demo_db, team):
    with session_scope(demo_db) as db:
        with pytest.raises(campaigns.CampaignError, match="butuh 7 parameter"):
            draft(db, team, parameters=["{customer_name}"])
        with pytest.raises(campaigns.CampaignError, match="tidak ada untuk audiens"):
            draft(db, team, parameters=["{virtual_account}"] + ["x"] * 6)
        with pytest.raises(campaigns.CampaignError, match="terlalu panjang"):
            draft(db, team, parameters=["x" * 201] + ["x"] * 6)
        with pytest.raises(campaigns.CampaignError, match="kosong"):
            draft(db, team, parameters=[" "] + ["x"] * 6)
        with pytest.raises(campaigns.CampaignError, match="marketing"):
            draft(db, team, "autodebit_hari_libur", "all_active", {})
        with pytest.raises(campaigns.CampaignError, match="tidak boleh"):
            draft(db, team, role="agent")
        row = db.get(MessageTemplate, template_id(db, "autodebit_hari_libur"))
        row.status = TemplateStatus.PENDING
        campaign = draft(db, team)
        with pytest.raises(campaigns.CampaignError, match="belum disetujui Meta"):
            campaigns.submit(db, staff(db, team, "analyst"), campaign.id, NOW)


def test_preview_counts_who_is_left_out_and_why(demo_db, team):
    with session_scope(demo_db) as db:
        campaign = draft(db, team)
        first = campaigns.preview(db, campaign, SEED_TODAY, "Uji", False)
        assert first.total >= 2 and first.included == first.total - sum(first.excluded.values())
        budi_sample = [text for phone, text in first.samples if "Budi Santoso" in text]
        assert budi_sample and "Kamis, 24 Desember 2026" in budi_sample[0] and "{{" not in budi_sample[0]
        assert all("*" in phone for phone, _ in first.samples)
        db.get(WhatsAppContact, 1).marketing_opt_out_at = NOW  # Budi answered STOP to a promo
        second = campaigns.preview(db, campaign, SEED_TODAY, "Uji", False)
        assert second.excluded.get("opted_out", 0) == first.excluded.get("opted_out", 0) + 1
        assert campaigns.preview(db, campaign, SEED_TODAY, "Uji", True).excluded.get("opted_out", 0) == 0


# --- sending against the fake Graph API ------------------------------------------------------


@pytest.fixture
def graph():
    fake = FakeGraph()
    yield fake
    fake.close()


def make_sender(demo_db, graph, **overrides):
    settings = dataclasses.replace(
        load_settings({"CRM_TODAY": SEED_TODAY.isoformat()}, env_file=None),
        campaign_send_rate=0.0,
        **overrides,
    )
    api = CloudApi(graph.url, ACCESS_TOKEN, "123", "waba-1")
    return Sender(settings, demo_db, api, clock=lambda: NOW + timedelta(hours=2), sleep=lambda s: None)


def approved(db, team, name="autodebit_hari_libur", audience="autodebit_holiday", options=None):
    campaign = draft(db, team, name, audience, options)
    campaigns.submit(db, staff(db, team, "analyst"), campaign.id, NOW)
    campaigns.approve(db, staff(db, team, "department_head"), campaign.id, NOW)
    if campaign.template.category.value == "marketing":
        campaigns.approve(db, staff(db, team, "corporate_secretary"), campaign.id, NOW)
    return campaign.id


def test_a_campaign_is_sent_once_to_each_included_customer(demo_db, team, graph):
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
        preview = campaigns.preview(db, campaigns.get(db, campaign_id), SEED_TODAY, "Uji Finance", False)
    sender = make_sender(demo_db, graph)
    assert sender.run_once() == preview.included
    assert sender.run_once() == 0  # nothing twice
    sent = graph.templates_sent()
    assert len(sent) == preview.included == len({m["to"] for m in sent})
    budi = next(m for m in sent if m["to"] == "6281210000001")
    assert budi["template"]["name"] == "autodebit_hari_libur"
    values = [p["text"] for p in budi["template"]["components"][0]["parameters"]]
    assert values[3:] == ["Hari Raya Natal", "BCA", values[5], "Kamis, 24 Desember 2026"]
    assert budi["biz_opaque_callback_data"].startswith("campaign-recipient:")
    with session_scope(demo_db) as db:
        campaign = campaigns.get(db, campaign_id)
        assert campaign.status is CampaignStatus.DONE
        figures = campaigns.figures(db, campaign_id, NOW + timedelta(hours=3))
    assert figures["sent"] == preview.included and figures["pending"] == 0
    # the same message is not sent again by a second campaign for the same holiday
    with session_scope(demo_db) as db:
        again = approved(db, team)
        assert (
            campaigns.preview(db, campaigns.get(db, again), SEED_TODAY, "Uji Finance", False).excluded["already_sent"]
            == preview.included
        )


def test_throttling_waits_and_resumes_and_a_number_not_on_whatsapp_is_recorded(demo_db, team, graph):
    graph.script = [(429, 130429, "Rate limit hit"), 503, (400, 131026, "Message undeliverable")]
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
    sender = make_sender(demo_db, graph)
    for _ in range(5):
        sender.run_once()
    with session_scope(demo_db) as db:
        figures = campaigns.figures(db, campaign_id, NOW)
        failed = db.execute(
            select(CampaignRecipient).where(CampaignRecipient.status == RecipientStatus.FAILED)
        ).scalar_one()
        contact = db.get(WhatsAppContact, failed.customer_id)
        assert campaigns.get(db, campaign_id).status is CampaignStatus.DONE
    assert figures["failed"] == 1 and figures["failures"][0]["code"] == 131026
    assert figures["sent"] == figures["audience"] - 1
    assert contact.not_on_whatsapp_at is not None
    assert len({m["to"] for m in graph.templates_sent()}) == len(graph.templates_sent())


def test_a_template_meta_paused_pauses_the_campaign(demo_db, team, graph):
    graph.script = [200, (400, 132015, "Template is paused")]
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
    make_sender(demo_db, graph).run_once()
    with session_scope(demo_db) as db:
        campaign = campaigns.get(db, campaign_id)
        assert campaign.status is CampaignStatus.PAUSED and "132015" in campaign.note
        assert campaign.template.status is TemplateStatus.PAUSED
        figures = campaigns.figures(db, campaign_id, NOW)
    assert figures["sent"] == 1 and figures["pending"] == figures["audience"] - 1


def test_a_row_claimed_by_a_sender_that_died_is_never_sent_again_and_its_status_settles_it(demo_db, team, graph):
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
        campaigns.start(db, campaign_id, SEED_TODAY, "Uji", False, NOW)
    with session_scope(demo_db) as db:
        (claimed,) = campaigns.claim(db, campaign_id, NOW, 1)  # ... and the sender died here
        claimed_id = claimed.id
    make_sender(demo_db, graph).run_once()
    assert all(m["biz_opaque_callback_data"] != campaigns.opaque(claimed_id) for m in graph.templates_sent())
    with session_scope(demo_db) as db:
        assert campaigns.figures(db, campaign_id, NOW + timedelta(hours=1))["in_doubt"] == 1
        # Meta had taken it: its status webhook names the row
        status = {
            "id": "wamid.lost",
            "status": "delivered",
            "timestamp": "1795000000",
            "biz_opaque_callback_data": campaigns.opaque(claimed_id),
        }
        assert campaigns.record_status(db, status, NOW) == "applied"
        row = db.get(CampaignRecipient, claimed_id)
        assert row.status is RecipientStatus.DELIVERED and row.message_id == "wamid.lost" and row.sent_at


def test_statuses_in_any_order_repeated_or_unknown(demo_db, team, graph):
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
    make_sender(demo_db, graph).run_once()
    with session_scope(demo_db) as db:
        row = db.execute(
            select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id).limit(1)
        ).scalar_one()
        message_id = row.message_id
        for name, ts in (("read", 300), ("sent", 100), ("delivered", 200), ("read", 300)):
            campaigns.record_status(db, {"id": message_id, "status": name, "timestamp": str(1795000000 + ts)}, NOW)
        assert row.status is RecipientStatus.READ
        assert row.delivered_at == datetime.utcfromtimestamp(1795000200)
        assert campaigns.record_status(db, {"id": message_id, "status": "read", "timestamp": "1"}, NOW) == "duplicate"
        assert (
            campaigns.record_status(db, {"id": "wamid.nobody", "status": "delivered", "timestamp": "1"}, NOW)
            == "unknown"
        )
        assert (
            db.execute(
                select(func.count()).select_from(WhatsAppStatus).where(WhatsAppStatus.message_id == "wamid.nobody")
            ).scalar_one()
            == 1
        )
        # a late failure does not undo a delivery
        campaigns.record_status(
            db,
            {"id": message_id, "status": "failed", "timestamp": "2", "errors": [{"code": 131047, "title": "x"}]},
            NOW,
        )
        assert row.status is RecipientStatus.READ


def test_the_daily_unique_recipient_limit_holds_the_rest(demo_db, team, graph):
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
    sender = make_sender(demo_db, graph, whatsapp_daily_recipient_limit=1)
    sender.run_once()
    sender.run_once()
    with session_scope(demo_db) as db:
        figures = campaigns.figures(db, campaign_id, NOW)
        assert "batas harian" in campaigns.get(db, campaign_id).note
    assert figures["audience"] >= 2
    assert figures["sent"] == 1 and figures["pending"] == figures["audience"] - 1


def test_stop_opts_out_and_the_customer_leaves_the_next_audience(demo_db, team):
    with session_scope(demo_db) as db:
        campaign = draft(db, team, "ucapan_hari_raya", "all_active", {})
        before = campaigns.preview(db, campaign, SEED_TODAY, "Uji", False)
        assert consent.opt_out(db, "6281210000001", False, NOW) == 1
        after = campaigns.preview(db, campaign, SEED_TODAY, "Uji", False)
        assert after.included == before.included - 1
        reminder_ok = consent.exclusion(db.get(WhatsAppContact, 1), "+6281210000001", "reminder", False)
        assert reminder_ok is None
        consent.opt_in(db, "6281210000001", "whatsapp_reply", NOW)
        assert campaigns.preview(db, campaign, SEED_TODAY, "Uji", False).included == before.included


def test_template_sync_reads_meta_and_submit_sends_new_ones(demo_db, graph):
    from crm.runtime.campaign_sender import submit_templates

    api = CloudApi(graph.url, ACCESS_TOKEN, "123", "waba-1")
    graph.template_status = "PENDING"
    assert submit_templates(demo_db, api, NOW) == len(templates.read_file())
    with session_scope(demo_db) as db:
        assert {r.status for r in templates.all_templates(db)} == {TemplateStatus.PENDING}
    graph.set_template_status("autodebit_hari_libur", "APPROVED")
    graph.set_template_status("ucapan_hari_raya", "REJECTED")
    sync_templates(demo_db, api, NOW)
    with session_scope(demo_db) as db:
        states = {r.name: r.status for r in templates.all_templates(db)}
        assert not templates.sendable(db) or {r.name for r in templates.sendable(db)} == {"autodebit_hari_libur"}
    assert states["autodebit_hari_libur"] is TemplateStatus.APPROVED
    assert states["ucapan_hari_raya"] is TemplateStatus.REJECTED
    body = graph.templates[next(k for k, v in graph.templates.items() if v["name"] == "autodebit_hari_libur")][
        "components"
    ][0]
    assert body["type"] == "BODY" and body["example"]["body_text"][0][0] == "Budi Santoso"


def test_replies_are_counted_and_carry_the_notice(demo_db, team, graph):
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
    make_sender(demo_db, graph).run_once()
    later = NOW + timedelta(hours=3)
    with session_scope(demo_db) as db:
        row = db.execute(select(CampaignRecipient).where(CampaignRecipient.phone == "6281210000001")).scalar_one()
        row.sent_at = later - timedelta(hours=1)
        notice = campaigns.note_reply(db, "6281210000001", later)
        assert notice["kind"] == "autodebit_moved" and notice["debit_date"] == "2026-12-24"
        assert campaigns.figures(db, campaign_id, later)["replied"] == 1
        assert campaigns.note_reply(db, "6289999999999", later) is None


def test_customers_table_is_untouched_by_opt_out_of_an_unknown_number(demo_db):
    with session_scope(demo_db) as db:
        assert consent.opt_out(db, "6289999999999", True, NOW) == 0
        assert db.execute(select(func.count()).select_from(Customer)).scalar_one() >= 12
        assert StaffRole("department_head") is StaffRole.DEPARTMENT_HEAD


def test_erasing_a_customer_removes_their_number_texts_and_consent_from_campaigns(demo_db, team, graph, tmp_path):
    from crm.services.data_protection import erase_customer

    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
    make_sender(demo_db, graph).run_once()
    with session_scope(demo_db) as db:
        erase_customer(db, db.get(Customer, 1), f"sqlite:///{tmp_path / 'tracker.db'}")
    with session_scope(demo_db) as db:
        row = db.execute(select(CampaignRecipient).where(CampaignRecipient.customer_id == 1)).scalar_one()
        assert (row.phone, row.parameters, row.notice) == ("", [], {})
        assert db.get(WhatsAppContact, 1) is None
        assert campaigns.figures(db, campaign_id, NOW)["sent"] >= 1


def test_the_access_export_lists_consent_and_campaign_messages(demo_db, team, graph, tmp_path):
    from crm.services.data_protection import export_customer

    with session_scope(demo_db) as db:
        approved(db, team)
    make_sender(demo_db, graph).run_once()
    with session_scope(demo_db) as db:
        exported = export_customer(db, db.get(Customer, 1), f"sqlite:///{tmp_path / 'tracker.db'}")
    assert exported["whatsapp_consent"]["opt_in_source"] == "contract_form"
    (message,) = exported["campaign_messages"]
    assert message["template"] == "autodebit_hari_libur" and message["status"] == "sent"


def test_rows_in_doubt_are_sent_again_only_by_a_deliberate_decision(demo_db, team, graph):
    with session_scope(demo_db) as db:
        campaign_id = approved(db, team)
        campaigns.start(db, campaign_id, SEED_TODAY, "Uji", False, NOW)
    with session_scope(demo_db) as db:
        (claimed,) = campaigns.claim(db, campaign_id, NOW, 1)  # the sender died here
        claimed_id = claimed.id
    make_sender(demo_db, graph).run_once()
    later = NOW + timedelta(hours=1)
    with session_scope(demo_db) as db:
        with pytest.raises(campaigns.CampaignError, match="tidak boleh"):
            campaigns.requeue_in_doubt(db, staff(db, team, "analyst"), campaign_id, later)
        assert campaigns.requeue_in_doubt(db, staff(db, team, "department_head"), campaign_id, later) == 1
        assert campaigns.get(db, campaign_id).status is CampaignStatus.SENDING
    make_sender(demo_db, graph).run_once()
    assert any(m["biz_opaque_callback_data"] == campaigns.opaque(claimed_id) for m in graph.templates_sent())
    with session_scope(demo_db) as db:
        assert campaigns.figures(db, campaign_id, later)["in_doubt"] == 0
        assert campaigns.get(db, campaign_id).status is CampaignStatus.DONE
        actions = db.execute(select(AuditEntry.action)).scalars().all()
    assert "campaign_requeue" in actions
