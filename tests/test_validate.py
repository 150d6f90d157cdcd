"""The project validator behind `make validate`."""

from __future__ import annotations

import shutil

from crm.nlu import validate
from crm.settings import PROJECT_ROOT


def test_accepts_unused_warnings_only_for_responses_actions_send():
    output = (
        "UserWarning: The utterance 'utter_bpkb_ready' is not used in any story or rule.\n"
        "UserWarning: The utterance 'utter_forgotten' is not used in any story or rule.\n"
        "UserWarning: Slot 'x' has a mapping condition for form 'f', but it's not present\n"
    )
    problems = validate.rasa_problems(output, {"utter_bpkb_ready"})
    assert len(problems) == 2
    assert problems[0].startswith("respons 'utter_forgotten' di domain.yml tidak pernah dipakai")
    assert problems[1] == "Slot 'x' has a mapping condition for form 'f', but it's not present"


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


def _project(tmp_path, nlu: str, rules: str, intents=("greet", "thank")):
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "rules").mkdir()
    (tmp_path / "data" / "nlu" / "examples.yml").write_text(nlu)
    (tmp_path / "data" / "rules" / "rules.yml").write_text(rules)
    (tmp_path / "domain.yml").write_text("intents:\n" + "".join(f"  - {i}\n" for i in intents))
    return validate.trainer_problems(tmp_path / "domain.yml", tmp_path / "data")


def _examples(intent, texts):
    return f"  - intent: {intent}\n    examples: |\n" + "".join(f"      - {t}\n" for t in texts)


def test_the_project_data_passes_the_trainer_checks():
    assert validate.trainer_problems() == []


def test_trainer_checks_say_what_to_fix(tmp_path):
    greet = [f"halo kak {i}" for i in range(20)] + ['[Halo]{"entity": "x"}  Kak 3', "x" * 250]
    greet += ["salam dari [jakarta](city)", "Salam dari jakarta"]  # one word, sometimes an entity
    thank = [f"makasih {i}" for i in range(5)] + ["halo kak 3"]
    nlu = (
        'version: "3.1"\nnlu:\n'
        + _examples("greet", greet)
        + _examples("thank", thank)
        + _examples("bye", [f"dadah {i}" for i in range(25)])
    )
    rules = 'version: "3.1"\nrules:\n  - rule: r\n    steps:\n      - intent: greet\n      - action: utter_greet\n'
    problems = _project(tmp_path, nlu, rules)
    text = "\n".join(problems)
    assert "intent 'thank' baru punya 6 contoh kalimat; minimal 20" in text
    assert "intent 'bye' punya contoh di data/nlu, tetapi tidak terdaftar di domain.yml" in text
    assert "ada di dua intent: 'greet'" in text and "'thank'" in text  # "halo kak 3", annotation ignored
    assert "panjangnya 250 huruf" in text
    assert 'contoh "Salam dari jakarta" ditulis dua kali dengan tanda entitas yang berbeda' in text
    assert 'Kak 3" ditulis dua kali' in text  # '[Halo]{"entity": "x"}  Kak 3' is annotated
    assert "intent 'thank' belum dipakai di rule atau story" in text
    assert not any("'greet' belum dipakai" in p for p in problems)


def test_the_business_files_are_read_as_the_assistant_reads_them():
    assert validate.business_problems() == []


def test_a_broken_business_file_or_a_payment_channel_among_other_parties_is_said(tmp_path):
    folder = tmp_path / "business"
    shutil.copytree(PROJECT_ROOT / "business", folder)
    parties = folder / "third_parties.yml"
    parties.write_text(parties.read_text().replace("others:\n", "others:\n  - indomaret\n", 1))
    (folder / "complaint_topics.yml").write_text("topics: [\n")
    listed = folder / "subjects.yml"
    listed.write_text(listed.read_text().replace("intents:\n", "intents:\n  komplain: [kolektor]\n", 1))
    problems = validate.business_problems(folder)
    assert len(problems) == 4, problems
    assert problems[0].startswith("business/complaint_topics.yml:")
    assert problems[1].startswith("business/subjects.yml: intent 'komplain' tidak ditahan oleh aturan subjek")
    assert "'indomaret' adalah kata saluran pembayaran 'retail'" in problems[2]
    # and, as a consequence, a payment question naming Indomaret would be read as someone else's
    assert "(ask_payment_methods) menyebut pihak lain" in problems[3] and "indomaret" in problems[3].lower()


def test_a_training_example_the_third_party_rule_would_hold_is_said(tmp_path):
    folder = tmp_path / "business"
    shutil.copytree(PROJECT_ROOT / "business", folder)
    parties = folder / "third_parties.yml"
    parties.write_text(parties.read_text().replace("others:\n", "others:\n  - tetangga\n", 1))
    problems = validate.business_problems(folder)
    assert any("'mas kolektornya bentak saya depan tetangga' (complain)" in p for p in problems), problems
    parties.write_text(parties.read_text().replace("others:\n", "others:\n  - cicilan\n", 1))
    problems = validate.business_problems(folder)
    assert any("(ask_instalment)" in p for p in problems), problems  # read as unrelated by the same lists


def test_a_training_example_the_put_through_rule_would_take_is_said(tmp_path):
    """The people one asks to be put through to are request_human's words in business/subjects.yml:
    "nomor rumah" added there would turn the unrelated "sambungkan ke nomor rumah" into a request
    for staff, and validate names that example."""
    folder = tmp_path / "business"
    shutil.copytree(PROJECT_ROOT / "business", folder)
    assert not any("sambungkan ke nomor rumah" in p for p in validate.business_problems(folder))
    listed = folder / "subjects.yml"
    listed.write_text(listed.read_text().replace("    - layanan pelanggan\n", "    - nomor rumah\n", 1))
    problems = validate.business_problems(folder)
    assert any("'sambungkan ke nomor rumah' (out_of_scope)" in p and "request_human" in p for p in problems), problems


def test_a_training_example_made_to_someone_the_lists_do_not_know_is_said(tmp_path):
    """ "saya mau lapor ke ojk" is a complaint about us because "ojk" is in addressed_to_us; taken
    out, validate names the example the gate would now ask about."""
    folder = tmp_path / "business"
    shutil.copytree(PROJECT_ROOT / "business", folder)
    listed = folder / "subjects.yml"
    listed.write_text(listed.read_text().replace("  - ojk\n", "", 1))
    listed.write_text(listed.read_text().replace("    - ojk\n", "", 1))  # the complaint's own word too
    problems = validate.business_problems(folder)
    assert any("'saya mau lapor ke ojk' (complain)" in p and "addressed_to_us" in p for p in problems), problems
