"""Watching the bot end to end (issue 19): a seeded history driven through the real bot over REST
(scripts/seed_conversations.py: questions, verification, ratings on the satisfaction buttons),
spread over the last days; a supervisor in Chromium opens the
dashboard, changes the period, sees the charts drawn, filters the review list, marks a session
and saves it as a test story, which `rasa test` then replays without a prediction error."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlalchemy import create_engine, text

from crm.clock import to_local, utc_now
from crm.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import seed_conversations  # noqa: E402

CONVERSATIONS = 36


def test_seeded_history_dashboard_review_and_a_saved_story_that_passes_rasa_test(product, browser):
    tracker_url = f"sqlite:///{product.env['TRACKER_DB']}"
    people = seed_conversations.customers(product.env["DATABASE_URL"])
    bot = seed_conversations.Bot(product.rasa_url)
    senders = seed_conversations.drive(bot, CONVERSATIONS, "itest", people, seed=7, workers=4)
    assert len(senders) == CONVERSATIONS
    seed_conversations.spread(tracker_url, product.env["DATABASE_URL"], senders, days=7, seed=7)
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        days_used = connection.execute(
            text(
                "SELECT COUNT(DISTINCT CAST(timestamp / 86400 AS INTEGER)) FROM events "
                "WHERE sender_id LIKE 'rest:seed-itest-%'"
            )
        ).scalar()
    engine.dispose()
    assert days_used >= 3  # moved back over the week, not all today

    page = browser.new_page()
    errors: list = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    base = product.console_url
    page.goto(base + "/login")
    page.fill("input[name=username]", "kepala")
    page.fill("input[name=password]", product.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.click("text=Dasbor")
    page.click("#refresh")  # the history was written after the console's last refresh
    page.wait_for_url(lambda url: "refreshed=" in url)

    today = to_local(utc_now()).date()  # the dashboard's days are WIB days
    page.fill("#period input[name=from]", (today - timedelta(days=13)).isoformat())
    page.fill("#period input[name=to]", today.isoformat())
    page.click("#period button[type=submit]")
    page.wait_for_url(lambda url: "from=" in url)
    sessions = int(page.inner_text("#sessions"))
    assert sessions >= CONVERSATIONS
    assert page.inner_text("#containment").endswith("%")
    assert page.inner_text("#csat-bot").endswith("%")  # customers tapped the satisfaction buttons
    assert page.get_attribute("body", "data-charts-drawn") == "6"
    for chart in ("chart-days", "chart-outcomes", "chart-hours"):
        drawn = page.evaluate(
            "id => { const c = document.getElementById(id); return c.width > 0 && c.height > 0 && !!c.chart; }", chart
        )
        assert drawn, chart
    days_with_sessions = page.evaluate(
        "() => document.getElementById('chart-days').chart.data.datasets[0].data.filter(n => n > 0).length"
    )
    assert days_with_sessions >= 3
    assert not [e for e in errors if "Content Security Policy" in e or "Chart" in e], errors

    # one day only: fewer sessions, still charts
    page.fill("#period input[name=from]", today.isoformat())
    page.click("#period button[type=submit]")
    page.wait_for_load_state()
    assert int(page.inner_text("#sessions")) < sessions

    csv = page.request.get(base + "/dashboard/csv/outcomes")
    assert csv.ok and csv.text().startswith("outcome,sessions")

    # the review: self-served sessions of the fortnight, open one, mark it, save it as a story
    page.click("text=Tinjau percakapan")
    page.fill("#review-filters input[name=from]", (today - timedelta(days=13)).isoformat())
    page.select_option("#review-filters select[name=outcome]", "self_served")
    page.click("#review-filters button[type=submit]")
    page.wait_for_url(lambda url: "outcome=self_served" in url)
    assert page.locator("#sessions tbody tr").count() >= 1
    assert "terlayani bot" in page.inner_text("#sessions tbody")
    page.locator("#sessions tbody a").first.click()
    page.wait_for_selector("#review-transcript")
    transcript = page.inner_text("#review-transcript")
    assert "Nasabah" in transcript and "Bot" in transcript
    page.check("#review-form input[name=correct][value=yes]")
    page.check("#review-form input[name=solved][value=yes]")
    page.fill("#review-form input[name=tags]", "demo, benar")
    page.click("#save-review")
    page.wait_for_selector("#saved")
    assert page.is_checked("#review-form input[name=correct][value=yes]")
    page.click("#save-story")
    page.wait_for_selector("#saved")
    session_id = page.url.split("/review/")[1].split("?")[0]
    story = product.tmp / "stories" / f"review_{session_id}.yml"
    written = story.read_text()
    assert "- intent:" in written and "- action:" in written

    result = subprocess.run(
        [
            str(PROJECT_ROOT / ".venv" / "bin" / "rasa"),
            "test",
            "core",
            "--model",
            str(PROJECT_ROOT / "models" / "crm-assistant.tar.gz"),
            "--stories",
            str(story),
            "--fail-on-prediction-errors",
            "--out",
            str(product.tmp / "story-results"),
        ],
        cwd=PROJECT_ROOT,
        env={**product.env, "ACTION_ENDPOINT_URL": "http://127.0.0.1:1/webhook"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
