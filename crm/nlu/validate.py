"""`make validate`: Rasa's own data validation plus the checks Rasa cannot do for this project.

Rasa warns about every response that no story or rule uses, but many responses here are sent
by custom actions. This runs `rasa data validate`, accepts exactly those warnings for
responses the actions really send, fails on every other warning or error, and checks the
other direction too: every response an action sends (including the ones named by a refusal
code, e.g. ``utter_due_date_refused_in_arrears``) exists in domain.yml. The files analysts
edit in business/ are read the way the assistant reads them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Set, TypeVar

import yaml

from crm import policy, subjects, third_parties, training_data
from crm.business_files import BUSINESS
from crm.nlu import pipeline
from crm.parsing import asks_to_be_put_through
from crm.services import complaints, payments, templates
from crm.settings import PROJECT_ROOT
from crm.training_data import ANNOTATION, strip_annotations

T = TypeVar("T")

DATA_DIR = PROJECT_ROOT / "data"
ACTIONS_DIR = PROJECT_ROOT / "actions"
CONSOLE_DIR = PROJECT_ROOT / "crm" / "console"  # sends takeover messages through Rasa's API
CHANNELS_DIR = PROJECT_ROOT / "channels"  # the WhatsApp channel answers media itself
SERVICES_DIR = PROJECT_ROOT / "crm" / "services"
# the channels' front door and the Rasa launcher answer refused messages and failed actions
SENDER_FILES = [
    CHANNELS_DIR / "inbound.py",
    PROJECT_ROOT / "crm" / "runtime" / "rasa_server.py",
    PROJECT_ROOT / "crm" / "services" / "hours.py",  # expected_answer renders its fragments
    PROJECT_ROOT / "crm" / "services" / "statements.py",  # the statement PDF's words
]
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
WARNING = re.compile(r"UserWarning: (.*)")
# responses named from a refusal code, e.g. f"utter_stnk_refused_{refusal}": the prefix and the
# service functions whose codes it receives
DYNAMIC = {
    "utter_stnk_refused_": ("loan_refusal_for",),
    "utter_due_date_refused_": ("due_date_change_quote", "_movable_dues"),
    "utter_day_refused_": ("check_appointment_day",),
    "utter_payment_proof_refused_": ("attach_proof",),
}
# used by Rasa itself: the core fallback and the forms' questions (utter_ask_<slot>)
RASA_USED = {"utter_default"}


def domain_responses(domain_path: Path = PROJECT_ROOT / "domain.yml") -> Set[str]:
    return set((yaml.safe_load(domain_path.read_text()) or {}).get("responses", {}))


def _sources(folder: Path) -> Iterable[str]:
    for path in sorted(folder.rglob("*.py")):
        yield path.read_text()


def refusal_codes(function: str) -> Set[str]:
    """Codes `function` in crm/services can refuse with: Refused("code") or `return "code"`."""
    codes: Set[str] = set()
    for source in _sources(SERVICES_DIR):
        for body in re.findall(rf"def {function}\(.*?(?=\ndef |\Z)", source, re.S):
            codes |= set(re.findall(r'Refused\("(\w+)"', body)) | set(re.findall(r'return "(\w+)"', body))
    return codes


def case_kinds_with_forms() -> Set[str]:
    """Kinds filed by action_submit_case, which sends f"utter_case_filed_{kind}"."""
    from actions.cases import FORM_KINDS

    return {kind.value for kind in FORM_KINDS.values()}


def responses_sent_by_actions() -> Set[str]:
    names: Set[str] = set()
    for source in [
        *_sources(ACTIONS_DIR),
        *_sources(CONSOLE_DIR),
        *_sources(CHANNELS_DIR),
        *(path.read_text() for path in SENDER_FILES),
    ]:
        # "utter_action" is Rasa's key for the response a bot message came from, no response itself
        names |= set(re.findall(r'["\'](utter_\w+)["\']', source)) - {"utter_action"}
        for prefix, functions in DYNAMIC.items():
            if prefix in source:
                names |= {prefix + code for function in functions for code in refusal_codes(function)}
        if "utter_case_filed_" in source:
            names |= {f"utter_case_filed_{kind}" for kind in case_kinds_with_forms()}
        if "utter_confirm_" in source:  # the question before a costly intent (actions/fallback.py)
            names |= {f"utter_confirm_{intent}" for intent in policy.COSTLY_INTENTS}
        if "utter_line_statement_" in source:  # the statement PDF's words
            from crm.services.statements import WORDS

            names |= {f"utter_line_statement_{key}" for key in WORDS}
        if "utter_line_service_" in source:
            from crm.models import Service

            names |= {f"utter_line_service_{service.value}" for service in Service}
    return names


def form_questions(domain_path: Path = PROJECT_ROOT / "domain.yml") -> Set[str]:
    forms = (yaml.safe_load(domain_path.read_text()) or {}).get("forms", {}) or {}
    return {f"utter_ask_{slot}" for form in forms.values() for slot in (form or {}).get("required_slots", [])}


def project_problems(responses: Set[str]) -> List[str]:
    """Responses the actions send that domain.yml lacks."""
    return [
        f"an action sends '{name}', but domain.yml has no response with that name"
        for name in sorted(responses_sent_by_actions() - responses)
    ]


def business_problems(folder: Path = BUSINESS) -> List[str]:
    """The files in business/ that analysts edit, read as the assistant reads them: a broken one
    is said here in seconds, not when a customer's message needs it."""
    problems: List[str] = []

    def read(reader: Callable[[Path], T], name: str) -> Optional[T]:
        try:
            return reader(folder / name)
        except ValueError as error:  # each reader names its file in the error
            problems.append(f"business/{name}: {error}")
            return None

    channels = read(payments.payment_channels, "payment_channels.yml")
    read(complaints.topics, "complaint_topics.yml")
    read(templates.read_file, "whatsapp_templates.yml")
    parties = read(third_parties.third_parties, "third_parties.yml")
    listed = read(subjects.subjects, "subjects.yml")
    gated = set(pipeline.component("nlu_components.certainty.CertaintyGate").get("needs_subject") or ())
    for intent in sorted(set(listed.intents) - gated if listed else ()):
        problems.append(
            f"business/subjects.yml: intent '{intent}' tidak ditahan oleh aturan subjek (config.yml: CertaintyGate, "
            f"needs_subject), jadi daftarnya tidak dipakai; pakai salah satu dari: {', '.join(sorted(gated))}"
        )
    if channels and parties:
        for channel in channels.channels:
            for word in sorted(set(channel.words) & set(parties.others)):
                problems.append(
                    f"business/third_parties.yml: '{word}' adalah kata saluran pembayaran '{channel.id}' "
                    "(payment_channels.yml); keluhan tentang pembayaran di sana urusan kami, hapus dari 'others'"
                )
    if parties:
        for intent, text, rule in _held_examples(parties, listed, channels):
            if rule == "others":
                problems.append(
                    f"contoh '{text}' ({intent}) menyebut pihak lain dari business/third_parties.yml tanpa kata "
                    "pihak kami, jadi bot tidak akan langsung menjawabnya: tambahkan kata pihak kami ke 'ours' "
                    "atau hapus kata itu dari 'others'"
                )
            elif rule == "put_through":
                problems.append(
                    f"contoh '{text}' ({intent}) hanya meminta disambungkan ke orang yang disebut daftar "
                    "request_human di business/subjects.yml, jadi bot membacanya sebagai permintaan bicara dengan "
                    "petugas: hapus kata itu dari daftar, atau pindahkan contohnya ke request_human"
                )
            else:
                problems.append(
                    f"contoh '{text}' ({intent}) ditujukan ('komplain ke ...') kepada pihak yang tidak dikenal "
                    "sebagai pihak kami, jadi bot akan bertanya dulu: tambahkan kata itu ke 'addressed_to_us' di "
                    "business/subjects.yml"
                )
    return problems


def _held_examples(
    parties: third_parties.ThirdParties,
    listed: Optional[subjects.Subjects],
    channels: Optional[payments.Channels],
    data_dir: Path = DATA_DIR,
) -> List[tuple]:
    """Training examples config.yml's CertaintyGate would hold, each with the rule: "others" when it
    names another party (asked about first, or read as unrelated), "addressed" when a complaint is
    made to someone the lists do not tie to us ("protes ke wasit"), "put_through" when it only asks
    to be put through to a person the lists name (read as that intent). The lists and the data
    disagree."""
    gate = pipeline.component("nlu_components.certainty.CertaintyGate")
    through = gate.get("put_through")
    people = listed.intents.get(str(through), ()) if listed is not None and through else ()
    asked_first = set(gate.get("about_others") or ())
    naming_others = asked_first | set(gate.get("unrelated_about_others") or ())
    paying = set(gate.get("ways_to_pay_are_ours") or ())
    held = []
    for intent, example, _ in training_data.nlu_examples(data_dir):
        text = strip_annotations(example)
        ways_to_pay = channels if intent in paying else None
        if intent in naming_others and third_parties.about_someone_else(parties, text, ways_to_pay):
            held.append((intent, text, "others"))
        if listed is not None and intent in asked_first and listed.addressed_elsewhere([text], parties.ours):
            held.append((intent, text, "addressed"))
        if people and intent != through and asks_to_be_put_through(text, people):
            held.append((intent, text, "put_through"))
    return held


def rasa_problems(output: str, sent_by_actions: Set[str]) -> List[str]:
    problems = []
    for line in output.splitlines():
        warning = WARNING.search(line)
        if not warning:
            continue
        unused = UNUSED.search(warning.group(1))
        if unused and unused.group(1) in sent_by_actions:
            continue
        if unused:
            problems.append(
                f"respons '{unused.group(1)}' di domain.yml tidak pernah dipakai (tidak ada rule, story "
                "atau aksi yang mengirimnya). Pakai di sebuah rule atau hapus. "
                f"[{warning.group(1).strip()}]"
            )
            continue
        problems.append(warning.group(1).strip())
    return problems


# --- checks for trainers (CRM analysts), in their language ----------------------------------------

MIN_EXAMPLES = 20
MAX_EXAMPLE_CHARS = 200  # a customer's chat message, not a paragraph


def _plain(example: str) -> str:
    """An example as the customer would type it: entity annotations removed, spacing and case
    ignored ('[K10124000001](contract_number)' -> 'k10124000001')."""
    return " ".join(strip_annotations(example).lower().split())


def _entities(example: str) -> List[tuple]:
    """The entity annotations of an example, in order: [(text, annotation)], `[text](entity)` or
    `[text]{...}`, case and spacing ignored."""
    found = []
    for match in ANNOTATION.finditer(example):
        text = match.group(1) or match.group(2)
        found.append((text.lower(), "".join(match.group(0)[len(text) + 2 :].split())))
    return found


def nlu_examples(data_dir: Path = DATA_DIR) -> List[tuple]:
    """(intent, example, file) for every example under data_dir/nlu."""
    return training_data.nlu_examples(data_dir)


def _used_intents(data_dir: Path) -> Set[str]:
    used: Set[str] = set()
    for path in sorted(data_dir.rglob("*.yml")):
        if path.parent.name == "nlu" or "nlu" in path.relative_to(data_dir).parts:
            continue
        used |= set(re.findall(r"^\s*-\s*intent:\s*([\w-]+)", path.read_text(), re.M))
        used |= set(re.findall(r"^\s*intent:\s*([\w-]+)", path.read_text(), re.M))
    return used


def trainer_problems(domain_path: Path = PROJECT_ROOT / "domain.yml", data_dir: Path = DATA_DIR) -> List[str]:
    """Problems a trainer can fix in the YAML files, each said in Indonesian with where to look."""
    domain = yaml.safe_load(domain_path.read_text()) or {}
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])]
    examples = nlu_examples(data_dir)
    problems = []
    counts = Counter(intent for intent, _, _ in examples)
    for intent in intents:
        if counts[intent] < MIN_EXAMPLES:
            problems.append(
                f"intent '{intent}' baru punya {counts[intent]} contoh kalimat; minimal {MIN_EXAMPLES}. "
                f"Tambahkan contoh di data/nlu/{intent}.yml."
            )
    for intent in sorted(set(counts) - set(intents)):
        problems.append(
            f"intent '{intent}' punya contoh di data/nlu, tetapi tidak terdaftar di domain.yml "
            "(bagian intents:). Tambahkan namanya di sana."
        )
    seen: Dict[str, tuple] = {}
    for intent, example, path in examples:
        key = _plain(example)
        if key in seen and seen[key][0] != intent:
            problems.append(
                f"contoh \"{example}\" ada di dua intent: '{seen[key][0]}' ({seen[key][1]}) dan "
                f"'{intent}' ({path}). Bot tidak bisa belajar dua jawaban untuk kalimat yang sama; "
                "hapus salah satunya."
            )
        elif key in seen and _entities(seen[key][2]) != _entities(example):
            problems.append(
                f'contoh "{strip_annotations(example)}" ditulis dua kali dengan tanda entitas yang berbeda '
                f'("{seen[key][2]}" dan "{example}", {path}): bot belajar bahwa kata yang sama kadang '
                "entitas, kadang bukan. Hapus salah satunya atau beri tanda yang sama."
            )
        seen.setdefault(key, (intent, path, example))
        if len(_plain(example)) > MAX_EXAMPLE_CHARS:
            problems.append(
                f"contoh di {path} ({intent}) panjangnya {len(_plain(example))} huruf; pesan pelanggan "
                f"biasanya pendek (maksimal {MAX_EXAMPLE_CHARS}). Pecah menjadi beberapa contoh: "
                f'"{example[:60]}..."'
            )
    used = _used_intents(data_dir)
    for intent in intents:
        if intent not in used:
            problems.append(
                f"intent '{intent}' belum dipakai di rule atau story mana pun (data/rules, data/stories), "
                "jadi bot tidak tahu harus menjawab apa. Tambahkan rule: intent -> respons/aksi."
            )
    return problems


def main() -> int:
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run([str(rasa), "data", "validate"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    problems = rasa_problems(output, responses_sent_by_actions() | form_questions() | RASA_USED)
    problems += project_problems(domain_responses())
    problems += trainer_problems()
    problems += business_problems()
    if result.returncode != 0:
        problems.append("rasa data validate reported errors:\n" + "\n".join(output.splitlines()[-15:]))
    for problem in problems:
        print(f"validate: {problem}", file=sys.stderr)
    if problems:
        print(f"validate: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("validate: training data, domain and actions are consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
