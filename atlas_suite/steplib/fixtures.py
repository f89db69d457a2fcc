"""The run's resources as behave fixtures (``@fixture`` + ``use_fixture``).

* ``server_pool``: the server processes, one per configuration (set up in ``before_all``);
* ``scenario_client``: a fresh HTTP client and no notes, for every scenario;
* ``container_pool`` (``@docker``) and ``kube_cluster`` (``@k8s``): set up by the first scenario
  that carries the tag and is not skipped (a run without them never touches an engine or a
  cluster), then kept for the whole run, so a container of one configuration or the deployment
  is started once and shared; removed when the run ends.

The last two are *run fixtures* (``use_run_fixture``): behave's ``use_fixture`` with the cleanup
registered on the "testrun" layer, and the value kept in ``context.run_fixtures`` (made in
``before_all``, so it outlives the scenario that set it up). A run fixture yields its value and
sets no context attribute: one set during a scenario would vanish when the scenario ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from behave import fixture, use_fixture

from atlas_suite.containers import ContainerPool
from atlas_suite.http import ApiClient
from atlas_suite.kube import KubeDeployment, KubeServer
from atlas_suite.server import ServerPool
from atlas_suite.targets import TargetSettings


@fixture
def server_pool(context: Any) -> Iterator[ServerPool]:
    """The run's servers: one per configuration, all stopped when the run ends."""
    settings = TargetSettings.from_userdata(context.config.userdata)
    pool = ServerPool(settings)
    context.pool = pool
    yield pool
    for label, code in pool.stop_all().items():
        print(f"atlas-suite: server {label} stopped with exit code {code}")


@fixture
def scenario_client(context: Any) -> Iterator[ApiClient]:
    """A fresh HTTP client (no key, no history) and no notes for every scenario."""
    client = ApiClient()
    context.http = client
    context.notes = {}
    context.server = None
    yield client
    client.close()


@fixture
def container_pool(context: Any) -> Iterator[ContainerPool]:
    """The run's containers: one per configuration, shared by the scenarios that allow it;
    every one removed when the run ends (its log kept under the run's log folder)."""
    settings = context.pool.settings
    pool = ContainerPool(settings.log_dir, max(settings.startup_timeout_s, 120.0))
    yield pool
    print(f"atlas-suite: removed {pool.remove_all()} containers of run {pool.run_id}")


@fixture
def kube_cluster(context: Any) -> Iterator[KubeServer]:
    """The run's deployment on the Kubernetes cluster, in a namespace of its own; deployed by
    the first step that asks (``KubeServer.ensure_deployed``), deleted when the run ends."""
    server = KubeServer(KubeDeployment.create())
    yield server
    server.close()
    if server.deployment.created:
        server.deployment.delete()
        print(f"atlas-suite: deleted namespace {server.deployment.namespace}")


RUN_FIXTURES_BY_TAG: dict[str, Callable[..., Iterator[Any]]] = {
    "docker": container_pool,
    "k8s": kube_cluster,
}


class _RunLayer:
    """The context as a run fixture sees it: cleanups go to behave's "testrun" layer."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def add_cleanup(self, cleanup: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._context.add_cleanup(cleanup, *args, layer="testrun", **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def use_run_fixture(context: Any, fixture_func: Callable[..., Iterator[Any]]) -> Any:
    """The value of a run fixture, set up on the first call of the run."""
    held: dict[Any, Any] = context.run_fixtures
    if fixture_func not in held:
        held[fixture_func] = use_fixture(fixture_func, _RunLayer(context))
    return held[fixture_func]


def use_tagged_fixtures(context: Any, tags: Iterable[str]) -> None:
    """Set up the run fixtures these tags ask for (``RUN_FIXTURES_BY_TAG``)."""
    for tag in tags:
        if tag in RUN_FIXTURES_BY_TAG:
            use_run_fixture(context, RUN_FIXTURES_BY_TAG[tag])


def containers(context: Any) -> ContainerPool:
    """The run's container pool (set up here if no tag asked for it yet)."""
    return cast(ContainerPool, use_run_fixture(context, container_pool))


def cluster(context: Any) -> KubeServer:
    """The run's Kubernetes deployment (set up here if no tag asked for it yet)."""
    return cast(KubeServer, use_run_fixture(context, kube_cluster))
