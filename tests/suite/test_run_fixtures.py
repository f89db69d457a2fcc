"""Run fixtures on behave's own Context: set up by a scenario's tag, kept after the scenario
ends, shared by the next ones, cleaned up when the run ends; the deployment deployed once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from behave.runner import Context

from atlas_suite import kube
from atlas_suite.containers import ContainerConfig
from atlas_suite.containers import pool as pool_module
from atlas_suite.steplib import fixtures
from atlas_suite.targets import TargetSettings


class Runner:
    """What behave's Context needs of a runner."""

    def __init__(self) -> None:
        self.config = SimpleNamespace(should_capture_hooks=lambda: False, verbose=False)


class Handle:
    """A running container, without an engine."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.base_url = "http://127.0.0.1:1"
        self.status = "running"

    def wait_healthy(self, timeout_s: float) -> float:
        return 0.1

    def logs_text(self) -> str:
        return "log\n"

    def remove(self) -> None:
        self.status = "removed"


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[Handle]:
    started: list[Handle] = []

    def run_server(image: str, **spec: Any) -> Handle:
        started.append(Handle(spec["name"]))
        return started[-1]

    monkeypatch.setattr(pool_module, "run_server", run_server)
    monkeypatch.setattr(pool_module, "remove_suite_containers", lambda run=None: 0)
    return started


def run_context(tmp_path: Path) -> Context:
    """A context as behave has it in a scenario: run, feature and scenario layers."""
    context = Context(Runner())
    context.run_fixtures = {}
    settings = TargetSettings.from_userdata({"log_dir": str(tmp_path / "logs")})
    context.pool = SimpleNamespace(settings=settings)
    context._push(layer="feature")
    context._push(layer="scenario")
    return context


def test_the_container_pool_outlives_the_scenario_that_set_it_up(
        tmp_path: Path, engine: list[Handle], capsys: pytest.CaptureFixture[str]) -> None:
    context = run_context(tmp_path)
    fixtures.use_tagged_fixtures(context, ["docker", "atlas", "req.INT-DOCKER-CPU"])
    pool = fixtures.containers(context)
    server = pool.get(ContainerConfig(image_command=True))
    context._pop()  # the scenario ends: its containers stay for the next one
    context._push(layer="scenario")
    fixtures.use_tagged_fixtures(context, ["docker"])
    assert fixtures.containers(context) is pool
    assert pool.get(ContainerConfig(image_command=True)) is server and len(engine) == 1
    assert engine[0].status == "running"
    context._pop()
    context._pop()  # the feature ends: still there
    assert engine[0].status == "running" and pool.root.exists()
    context._pop()  # the run ends
    assert engine[0].status == "removed" and not pool.root.exists()
    assert f"removed 1 containers of run {pool.run_id}" in capsys.readouterr().out


def test_untagged_scenarios_set_up_nothing(tmp_path: Path, engine: list[Handle]) -> None:
    context = run_context(tmp_path)
    fixtures.use_tagged_fixtures(context, ["atlas", "memory"])
    assert context.run_fixtures == {}


def test_the_deployment_is_deployed_once_and_deleted_at_the_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []

    def kubectl(*args: str, **kwargs: Any) -> str:
        calls.append(args)
        return ""

    monkeypatch.setattr(kube, "kubectl", kubectl)
    monkeypatch.setattr(kube.KubeDeployment, "wait_rollout", lambda self, timeout_s: None)
    context = run_context(tmp_path)
    fixtures.use_tagged_fixtures(context, ["k8s"])
    assert calls == [], "setting the fixture up deploys nothing yet"
    server = fixtures.cluster(context)
    server.ensure_deployed(1)
    server.ensure_deployed(1)
    assert [c[0] for c in calls].count("create") == 1
    namespace = server.deployment.namespace
    for _ in range(3):
        context._pop()
    assert calls[-1][:3] == ("delete", "namespace", namespace)


def test_an_undeployed_cluster_fixture_deletes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube, "kubectl", lambda *a, **k: pytest.fail(f"kubectl {a}"))
    context = run_context(tmp_path)
    assert fixtures.cluster(context) is fixtures.cluster(context)
    for _ in range(3):
        context._pop()
