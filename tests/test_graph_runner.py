"""The Rasa server runs Rasa's graphs without dask's scheduler (crm.runtime.rasa_server): the
same nodes, inputs, results and errors as DaskGraphRunner on a graph with shared, unused and
input-only dependencies."""

from __future__ import annotations

import pytest
from rasa.engine.exceptions import GraphComponentException, GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from crm.runtime import rasa_server

CALLS: list = []


class Add(GraphComponent):
    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls(config)

    def __init__(self, config):
        self.name = config.get("name")

    def add(self, a, b):
        CALLS.append(self.name)
        if a == "boom":
            raise RuntimeError("a node failed")
        return a + b


def node(name, a, b, target=False):
    return SchemaNode(
        needs={"a": a, "b": b}, uses=Add, constructor_name="create", fn="add", config={"name": name}, is_target=target
    )


SCHEMA = GraphSchema(
    {
        "one": node("one", "__x__", "__y__"),
        "two": node("two", "one", "__x__"),
        "three": node("three", "two", "one", target=True),
        "unused": node("unused", "__x__", "__x__"),
        "four": node("four", "three", "__y__", target=True),
    }
)


@pytest.fixture
def runners(tmp_path):
    rasa_server.install_sequential_graph_runner()
    runner = DaskGraphRunner(SCHEMA, LocalModelStorage(tmp_path), ExecutionContext(SCHEMA))
    sequential = lambda **kwargs: DaskGraphRunner.run(runner, **kwargs)  # noqa: E731
    with_dask = lambda **kwargs: DaskGraphRunner.run.with_dask(runner, **kwargs)  # noqa: E731
    return sequential, with_dask


@pytest.mark.parametrize("targets", [None, ["three"], ["two", "one"], ["four", "__y__"]])
def test_same_results_and_only_the_needed_nodes_each_once(runners, targets):
    outcomes = []
    for run in runners:
        CALLS.clear()
        outcomes.append((run(inputs={"__x__": 1, "__y__": 10}, targets=targets), sorted(CALLS)))
    assert outcomes[0] == outcomes[1]
    results, calls = outcomes[0]
    assert "unused" not in calls and len(calls) == len(set(calls))
    if targets is None:
        assert results == {"three": 23, "four": 33}


def test_a_failing_node_fails_the_run_the_same_way(runners):
    for run in runners:
        with pytest.raises(GraphComponentException, match="node one") as raised:
            run(inputs={"__x__": "boom", "__y__": "x"}, targets=["one"])
        assert isinstance(raised.value.__cause__, RuntimeError)


def test_an_input_named_like_a_node_is_refused(runners):
    sequential, _ = runners
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        sequential(inputs={"__x__": "one", "__y__": "x"}, targets=["one"])


def test_a_cycle_is_refused():
    cyclic = GraphSchema({"a": node("a", "b", "__x__"), "b": node("b", "a", "__x__", target=True)})
    with pytest.raises(ValueError, match="cycle"):
        rasa_server.graph_plan(cyclic, ["b"])
