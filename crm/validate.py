"""`make validate`: Rasa's own data validation plus the checks Rasa cannot do for this project.

Rasa warns about every response that no story or rule uses, but many responses here are sent
by custom actions. This runs `rasa data validate`, accepts exactly those warnings for
responses the actions really send, fails on every other warning or error, and checks the
other direction too: every response an action sends (including the ones named by a refusal
code, e.g. ``utter_due_date_refused_in_arrears``) exists in domain.yml.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Set

import yaml

from crm.settings import PROJECT_ROOT

ACTIONS_DIR = PROJECT_ROOT / "actions"
CONSOLE_DIR = PROJECT_ROOT / "crm" / "console"  # sends takeover messages through Rasa's API
CHANNELS_DIR = PROJECT_ROOT / "channels"  # the WhatsApp channel answers media itself
SERVICES_DIR = PROJECT_ROOT / "crm" / "services"
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
WARNING = re.compile(r"UserWarning: (.*)")
# responses named from a refusal code, e.g. f"utter_stnk_refused_{refusal}": the prefix and the
# service function whose codes it receives
DYNAMIC = {
    "utter_stnk_refused_": "loan_refusal_for",
    "utter_due_date_refused_": "due_date_change_quote",
    "utter_day_refused_": "check_appointment_day",
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
    for source in [*_sources(ACTIONS_DIR), *_sources(CONSOLE_DIR), *_sources(CHANNELS_DIR)]:
        names |= set(re.findall(r'["\'](utter_\w+)["\']', source))
        for prefix, function in DYNAMIC.items():
            if prefix in source:
                names |= {prefix + code for code in refusal_codes(function)}
        if "utter_case_filed_" in source:
            names |= {f"utter_case_filed_{kind}" for kind in case_kinds_with_forms()}
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


def rasa_problems(output: str, sent_by_actions: Set[str]) -> List[str]:
    problems = []
    for line in output.splitlines():
        warning = WARNING.search(line)
        if not warning:
            continue
        unused = UNUSED.search(warning.group(1))
        if unused and unused.group(1) in sent_by_actions:
            continue
        problems.append(warning.group(1).strip())
    return problems


def main() -> int:
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run([str(rasa), "data", "validate"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    problems = rasa_problems(output, responses_sent_by_actions() | form_questions() | RASA_USED)
    problems += project_problems(domain_responses())
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
