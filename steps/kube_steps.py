"""A Kubernetes deployment of the server: replicas, its Service, pods replaced after a deletion
or a rolling restart, and the memory it keeps across them."""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to, greater_than, is_in, is_not

from atlas_suite import routes
from atlas_suite.http import describe_text
from atlas_suite.kube import KubeServer
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.catalogue import deprecated
from atlas_suite.steplib.fixtures import cluster
from atlas_suite.steplib.support import api, current_server, http, noted, notes, use_server

DOMAIN = "containers"


# -- Kubernetes (the kube_cluster fixture, atlas_suite/steplib/fixtures.py) ----------------------
def _kube(context: Any) -> KubeServer:
    server = current_server(context)
    assert isinstance(server, KubeServer), "this step needs the Kubernetes deployment: start " \
        "the scenario with the Given ... deployed on the Kubernetes cluster step"
    return server


@given("the ATLAS server is deployed on the Kubernetes cluster")
def step_deployed(context: Any) -> None:
    """``kubectl apply -k docker/k8s/overlays/cpu`` (or ``$ATLAS_K8S_OVERLAY``, image
    ``$ATLAS_K8S_IMAGE``) into a namespace of this run, then ``kubectl rollout status`` (up to
    10 minutes). Once per run; the namespace is deleted at the end. Requests go through the
    Service (``kubectl port-forward service/atlas-server`` on 127.0.0.1)."""
    server = cluster(context)
    server.ensure_deployed(600)
    use_server(context, server)


@then("the deployment has {count:Int} ready replicas")
def step_ready_replicas(context: Any, count: int) -> None:
    """The Deployment wants ``count`` replicas and ``count`` are ready."""
    assert_that(_kube(context).deployment.replicas(), equal_to((count, count)),
                "(desired, ready) replicas")


@then("the Service routes to {count:Int} ready pods")
def step_service_endpoints(context: Any, count: int) -> None:
    """The Service's endpoints list ``count`` ready addresses."""
    assert_that(_kube(context).deployment.service_endpoints(), equal_to(count),
                "ready addresses behind the Service")


@when("one of the server's pods is deleted")
def step_delete_pod(context: Any) -> None:
    """``kubectl delete pod`` of one ready pod (as a node failure or an operator would)."""
    deployment = _kube(context).deployment
    pods = deployment.ready_pods()
    assert pods, "no ready pod to delete"
    deployment.delete_pod(pods[0])
    notes(context)["deleted_pod"] = pods[0]


@then("within {seconds:Int} seconds {count:Int} pods are ready again, none of them the deleted "
      "one")
def step_recovered(context: Any, seconds: int, count: int) -> None:
    """The Deployment replaced the deleted pod: ``count`` ready pods, the deleted one not among
    them."""
    deleted = frozenset({noted(context, "deleted_pod")})
    _kube(context).deployment.wait_ready(count, seconds, avoid=deleted)


@given("I note the server's pods")
@deprecated("the deployment is restarted with a rolling update")
def step_note_pods(context: Any) -> None:
    """Deprecated: use `the deployment is restarted with a rolling update` (it keeps the names
    of the pods it replaces)."""
    notes(context)["pods"] = frozenset(_kube(context).deployment.ready_pods())


@when("the deployment is restarted with a rolling update")
def step_rolling_restart(context: Any) -> None:
    """``kubectl rollout restart deployment/atlas-server``; the pods ready before it are kept
    for "... all of them new"."""
    if "pods" not in notes(context):
        notes(context)["pods"] = frozenset(_kube(context).deployment.ready_pods())
    _kube(context).deployment.rolling_restart()


@then("within {seconds:Int} seconds {count:Int} pods are ready again, all of them new")
def step_all_new(context: Any, seconds: int, count: int) -> None:
    """``count`` ready pods, none of those ready before the restart: every pod was replaced."""
    _kube(context).deployment.wait_ready(count, seconds, avoid=noted(context, "pods"))


@then("within {seconds:Int} seconds {count:Int} pods are ready again, none of them noted before")
@deprecated("within {seconds} seconds {count} pods are ready again, all of them new")
def step_all_replaced(context: Any, seconds: int, count: int) -> None:
    """Deprecated: use `within {seconds} seconds {count} pods are ready again, all of them
    new`."""
    step_all_new(context, seconds, count)


@then("the server answers through the Service again")
def step_answers_again(context: Any) -> None:
    """A new connection to the Service (the previous one may have ended with its pod) gets 200
    from the health check and from the ATLAS status."""
    server = _kube(context)
    server.reconnect()
    use_server(context, server)
    for path in (routes.HEALTH, routes.ATLAS_STATUS):
        reply = http(context).get(path)
        assert_that(reply.status, equal_to(200),
                    f"GET {path} through the Service: {describe_text(reply.status, reply.text)}")


@when("requests go through the Service again")
def step_reconnect(context: Any) -> None:
    """A new port-forward to the Service (the previous one may have ended with its pod)."""
    server = _kube(context)
    server.reconnect()
    use_server(context, server)


__all__ = [name for name in dir() if name.startswith("step_")]
