"""The Rasa server finds the rules that apply through an index by previous action
(crm.runtime.rasa_server.install_indexed_rule_lookup): the same rules as Rasa's own scan of every
rule, for every turn of every conversation the project's rules and stories describe, and for the
same turns with their previous action, intent and slots changed at random."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

from crm.runtime import rasa_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A RulePolicy trained on the project's own rules and stories, as `make train` trains it."""
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    config = {**RulePolicy.get_default_config(), "core_fallback_action_name": "action_default_fallback"}
    storage = LocalModelStorage(tmp_path_factory.mktemp("rules"))
    policy = RulePolicy.create(config, storage, Resource("rules"), ExecutionContext(GraphSchema({}), "test"))
    policy.train(trackers, domain)
    rasa_server.install_indexed_rule_lookup()
    return policy, domain, trackers


def conversation_states(policy, domain, trackers):
    """The states RulePolicy predicts from, before every action of every training conversation."""
    for tracker in trackers:
        for prior, _ in tracker.generate_all_prior_trackers():
            for use_text in (True, False):
                yield policy._prediction_states(prior, domain, use_text, rule_only_data=policy._get_rule_only_data())


def changed(states, domain, rng):
    """The same turns with one turn's previous action, intent or slots changed."""
    states = copy.deepcopy(states)
    if not states:
        return states
    turn = rng.choice(states)
    what = rng.choice(("action", "intent", "slots", "no action"))
    if what == "action":
        turn[PREVIOUS_ACTION] = {ACTION_NAME: rng.choice(domain.action_names_or_texts)}
    elif what == "intent":
        turn[USER] = {INTENT: rng.choice(domain.intents)}
    elif what == "slots":
        turn["slots"] = {slot.name: (1.0,) for slot in rng.sample(domain.slots, 2)}
    else:
        turn.pop(PREVIOUS_ACTION, None)
    return states


def test_the_index_finds_the_same_rules_as_rasas_scan(trained):
    policy, domain, trackers = trained
    rng = random.Random(7)
    compared = matched = 0
    for states in conversation_states(policy, domain, trackers):
        for variant in (states, changed(states, domain, rng), changed(states, domain, rng)):
            for lookup in (policy.lookup[RULES], policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]):
                indexed = RulePolicy._get_possible_keys(policy, lookup, variant)
                assert indexed == RulePolicy._get_possible_keys.unindexed(policy, lookup, variant), variant
                compared += 1
                matched += bool(indexed)
    assert compared > 3000
    assert matched > 2000  # a quarter of them find rules: the comparison is not of empty sets


def test_a_changed_lookup_is_indexed_anew(trained):
    policy, domain, trackers = trained
    lookup = dict(policy.lookup[RULES])
    states = next(s for s in conversation_states(policy, domain, trackers) if policy._get_possible_keys(lookup, s))
    before = RulePolicy._get_possible_keys(policy, lookup, states)
    for key in before:
        del lookup[key]  # the same dict, changed in place (Rasa's training does that)
    assert RulePolicy._get_possible_keys(policy, lookup, states) == set()
    assert RulePolicy._get_possible_keys(policy, lookup, []) == set(lookup)


def test_rules_that_name_no_previous_action_are_still_tested(trained):
    """Rules whose last turn names no previous action (a conversation start, an action given by
    text, "should not be set"): the project's rules have none yet, Rasa's format allows them."""
    policy = trained[0]
    start = json.dumps([{USER: {INTENT: "greet"}}])
    by_text = json.dumps([{PREVIOUS_ACTION: {"action_text": "halo"}, USER: {INTENT: "greet"}}])
    not_set = json.dumps([{PREVIOUS_ACTION: {ACTION_NAME: SHOULD_NOT_BE_SET}, USER: {INTENT: "greet"}}])
    named = json.dumps([{PREVIOUS_ACTION: {ACTION_NAME: "action_listen"}, USER: {INTENT: "greet"}}])
    lookup = {start: "utter_greet", by_text: "utter_greet", not_set: "utter_greet", named: "utter_greet"}
    conversations = [
        [{USER: {INTENT: "greet"}}],
        [{PREVIOUS_ACTION: {"action_text": "halo"}, USER: {INTENT: "greet"}}],
        [{PREVIOUS_ACTION: {ACTION_NAME: "action_listen"}, USER: {INTENT: "greet"}}],
        [{PREVIOUS_ACTION: {ACTION_NAME: "utter_greet"}, USER: {INTENT: "greet"}}],
    ]
    found = []
    for states in conversations:
        indexed = RulePolicy._get_possible_keys(policy, lookup, states)
        assert indexed == RulePolicy._get_possible_keys.unindexed(policy, lookup, states), states
        found.append(indexed)
    assert start in found[0] and {by_text, not_set} <= found[1] and named in found[2]
