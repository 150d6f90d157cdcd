"""What the Rasa server sends the action server: the domain only to the form validations, and
without its responses (endpoints.yml's selective domain, crm.runtime.rasa_server)."""

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted, UserUttered

from crm.settings import PROJECT_ROOT

DOMAIN = Domain.from_path(PROJECT_ROOT / "domain.yml")


def said(text, intent="greet"):
    return UserUttered(text, {"name": intent, "confidence": 0.9})


def test_only_form_validations_receive_the_domain_and_without_its_responses():
    """endpoints.yml's selective domain plus crm.runtime.rasa_server.install_lean_action_domain."""
    import yaml
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from crm.runtime.rasa_server import install_lean_action_domain

    install_lean_action_domain()
    committed = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())["action_endpoint"]
    endpoint = EndpointConfig("http://localhost:5055", enable_selective_domain=committed["enable_selective_domain"])
    tracker = DialogueStateTracker.from_events("web:9", [SessionStarted(), said("halo")], slots=DOMAIN.slots)
    validation = RemoteAction("validate_verification_form", endpoint)._action_call_format(tracker, DOMAIN)
    assert "responses" not in validation["domain"]
    assert "verification_form" in validation["domain"]["forms"] and validation["domain"]["slots"]
    answer = RemoteAction("action_answer_account", endpoint)._action_call_format(tracker, DOMAIN)
    assert "domain" not in answer and answer["tracker"]["sender_id"] == "web:9"
    for form in DOMAIN.form_names:  # every form's validation is marked send_domain in domain.yml
        assert DOMAIN.does_custom_action_explicitly_need_domain(f"validate_{form}")
