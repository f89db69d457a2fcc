"""The Server protocol: every kind of server implements all of it itself, and what a kind
cannot do is a skip in words (Unsupported), not an AttributeError."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from atlas_suite.config import ServerConfig
from atlas_suite.containers import ContainerConfig, ContainerServer
from atlas_suite.kube import KubeDeployment, KubeServer
from atlas_suite.server import ManagedServer
from atlas_suite.server_protocol import Server
from atlas_suite.steplib import support
from atlas_suite.targets import Unsupported

KINDS = (ManagedServer, ContainerServer, KubeServer)
METHODS = sorted(name for name, value in vars(Server).items()
                 if inspect.isfunction(value) and not name.startswith("_"))
FIELDS = sorted(Server.__annotations__)


def test_the_protocol_names_what_steps_use() -> None:
    assert {"alive", "stop", "log_tail", "log_text", "require_memory_dir",
            "require_process"} <= set(METHODS)
    assert {"base_url", "api_key", "memory_dir", "cache", "config", "process",
            "last_exit_code", "started_by_suite"} <= set(FIELDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_each_kind_subclasses_the_protocol_and_defines_every_method(kind: type) -> None:
    assert Server in kind.__mro__, f"{kind.__name__} implements Server explicitly"
    inherited = [name for name in METHODS if getattr(kind, name) is getattr(Server, name)]
    assert inherited == [], f"{kind.__name__} leaves these to the protocol's empty bodies"


class Handle:
    """What ContainerServer uses of a running container, without an engine."""

    name = "atlas-suite-test-01"
    base_url = "http://127.0.0.1:1"
    status = "running"

    def logs_tail(self, n: int = 50) -> str:
        return "tail"


def servers(tmp_path: Path) -> list[Any]:
    url_target = ManagedServer(ServerConfig(), "http://127.0.0.1:1", None, api_key="their-key")
    container = ContainerServer(ContainerConfig(tmpfs_size="400k"), Handle(), None)
    deployment = KubeServer(KubeDeployment("atlas-suite-test", tmp_path))
    return [url_target, container, deployment]


def _has(server: Any, name: str) -> bool:
    """Without evaluating a property (a deployment's base_url opens a port-forward)."""
    try:
        inspect.getattr_static(server, name)
    except AttributeError:
        return False
    return True


def test_every_instance_has_every_field(tmp_path: Path) -> None:
    for server in servers(tmp_path):
        missing = [name for name in FIELDS if not _has(server, name)]
        assert missing == [], f"{type(server).__name__} lacks {missing}"
        assert isinstance(server.config.label(), str)


def test_what_a_kind_cannot_do_is_unsupported_in_words(tmp_path: Path) -> None:
    url_target, container, deployment = servers(tmp_path)
    for server, call in [(url_target, url_target.stop), (url_target, url_target.log_text),
                         (url_target, url_target.require_memory_dir),
                         (container, container.require_process),
                         (container, container.require_memory_dir),
                         (deployment, deployment.stop), (deployment, deployment.require_process),
                         (deployment, deployment.require_memory_dir)]:
        with pytest.raises(Unsupported) as raised:
            call()
        assert len(str(raised.value)) > 20, f"{type(server).__name__}: say why"


def test_the_suite_adds_a_url_targets_own_key_and_no_other(tmp_path: Path) -> None:
    url_target, container, _ = servers(tmp_path)
    context = SimpleNamespace()
    assert support.use_server(context, url_target) is url_target
    assert context.http.headers == {"Authorization": "Bearer their-key"}
    assert context.server is url_target and context.http.base_url == url_target.base_url
    context = SimpleNamespace()
    support.use_server(context, container)
    assert context.http.headers == {}
