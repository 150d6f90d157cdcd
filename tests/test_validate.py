"""The project validator behind `make validate`."""

from __future__ import annotations

from crm import validate


def test_accepts_unused_warnings_only_for_responses_actions_send():
    output = (
        "UserWarning: The utterance 'utter_bpkb_ready' is not used in any story or rule.\n"
        "UserWarning: The utterance 'utter_forgotten' is not used in any story or rule.\n"
        "UserWarning: Slot 'x' has a mapping condition for form 'f', but it's not present\n"
    )
    problems = validate.rasa_problems(output, {"utter_bpkb_ready"})
    assert problems == [
        "The utterance 'utter_forgotten' is not used in any story or rule.",
        "Slot 'x' has a mapping condition for form 'f', but it's not present",
    ]


def test_every_response_an_action_sends_exists():
    sent = validate.responses_sent_by_actions()
    assert "utter_bpkb_ready" in sent and "utter_stnk_refused_in_arrears" in sent
    assert "utter_due_date_refused_invalid_day" in sent and "utter_day_refused_branch_closed" in sent
    assert validate.project_problems(validate.domain_responses()) == []


def test_a_missing_response_is_reported():
    problems = validate.project_problems(validate.domain_responses() - {"utter_bpkb_ready"})
    assert problems == ["an action sends 'utter_bpkb_ready', but domain.yml has no response with that name"]


def test_refusal_codes_come_from_the_services():
    assert validate.refusal_codes("loan_refusal_for") == {"paid_off", "not_active", "in_arrears", "already_lent"}
    assert "branch_closed" in validate.refusal_codes("check_appointment_day")
