"""The ATLAS server on a Kubernetes cluster, driven with ``kubectl`` (no extra dependency).

The cluster is the one ``KUBECONFIG`` (or ``~/.kube/config``) names. A run deploys
``docker/k8s/overlays/cpu`` (or ``$ATLAS_K8S_OVERLAY``) into a namespace of its own, talks to it
through ``kubectl port-forward service/...`` on 127.0.0.1, and deletes the namespace at the end.
The image must be one the cluster's nodes can pull or already hold (kind: ``kind load
docker-image atlas-server-cpu:latest``; any cluster: push it and set ``ATLAS_K8S_IMAGE``).

    reason = skip_reason()               # None when a cluster answers
    deployment = KubeDeployment.create(overlay)
    deployment.deploy(); deployment.wait_rollout(600)
    with deployment.port_forward() as forward:
        requests.get(f"{forward.base_url}{routes.HEALTH}")
    deployment.delete()
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_suite.server_protocol import Server
from atlas_suite.targets import Unsupported

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OVERLAY = ROOT / "docker" / "k8s" / "overlays" / "cpu"
APP = "atlas-server"  # the Deployment's and the Service's name (docker/k8s/base)
SELECTOR = "app.kubernetes.io/name=atlas-server"
IMAGE_NAME = "atlas-server-cpu"  # the name the overlays' `images:` entries match
REACH_TIMEOUT_S = 15


class KubeError(RuntimeError):
    """kubectl failed; the message has its command and what it printed."""


def kubeconfig_files() -> list[Path]:
    """The kubeconfig files kubectl would read: ``$KUBECONFIG``'s, or ~/.kube/config."""
    value = os.environ.get("KUBECONFIG", "")
    if value:
        return [Path(p) for p in value.split(os.pathsep) if p]
    default = Path.home() / ".kube" / "config"
    return [default] if default.is_file() else []


@functools.lru_cache(maxsize=1)
def skip_reason() -> str | None:
    """Why no Kubernetes scenario can run (no KUBECONFIG, no kubectl, cluster unreachable)."""
    files = [p for p in kubeconfig_files() if p.is_file()]
    if not files:
        named = os.environ.get("KUBECONFIG")
        where = f"KUBECONFIG={named} names no file" if named else \
            "no KUBECONFIG and no ~/.kube/config"
        return f"no Kubernetes cluster: {where}"
    if not shutil.which("kubectl"):
        return "no Kubernetes cluster can be reached: kubectl is not installed"
    try:
        answer = kubectl("version", "-o", "json", f"--request-timeout={REACH_TIMEOUT_S}s",
                         timeout=REACH_TIMEOUT_S + 5)
        server = json.loads(answer).get("serverVersion")
    except (KubeError, ValueError) as exc:
        last = str(exc).strip().splitlines()[-1:] or ["no answer"]
        return f"the Kubernetes cluster in {files[0]} is unreachable: {last[0][:300]}"
    if not server:
        return f"the Kubernetes cluster in {files[0]} did not say its version: unreachable"
    return None


def kubectl(*args: str, namespace: str | None = None, timeout: float = 120,
            check: bool = True) -> str:
    """Run kubectl; its stdout. Raises KubeError (with stderr) when it fails and ``check``."""
    argv = ["kubectl", *(["--namespace", namespace] if namespace else []), *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise KubeError(f"`{' '.join(argv)}` did not finish within {timeout:.0f} s") from None
    except FileNotFoundError:
        raise KubeError("kubectl is not installed") from None
    if check and done.returncode != 0:
        raise KubeError(f"`{' '.join(argv)}` failed ({done.returncode}): "
                        f"{(done.stderr or done.stdout).strip()[-1500:]}")
    return done.stdout


def wrapping_kustomization(overlay: Path, folder: Path, namespace: str,
                           image: str | None = None) -> str:
    """A kustomization in ``folder`` that puts ``overlay`` into ``namespace`` and, if given,
    swaps the image for ``image`` (kustomize takes only relative paths to other roots)."""
    relative = os.path.relpath(Path(overlay).resolve(), Path(folder).resolve())
    lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization",
             f"namespace: {namespace}", "resources:", f"  - {relative}"]
    if image:
        name, tag = split_image(image)
        lines += ["images:", f"  - name: {IMAGE_NAME}", f"    newName: {name}",
                  f"    newTag: {tag}"]
    return "\n".join(lines) + "\n"


def split_image(image: str) -> tuple[str, str]:
    """("registry:5000/atlas", "v1") from "registry:5000/atlas:v1"; tag "latest" if none."""
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return name, tag


def is_ready(pod: dict[str, Any]) -> bool:
    """A pod that is running, Ready, and not being deleted."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@dataclass(frozen=True)
class KubeTarget:
    """What the steps see as ``server.config`` of a deployment: a label."""

    namespace: str
    overlay: str

    def label(self) -> str:
        return f"k8s_{self.namespace}_{Path(self.overlay).name}"


class PortForward:
    """``kubectl port-forward service/NAME :8080`` on 127.0.0.1: the Service from the host."""

    def __init__(self, namespace: str, service: str = APP, port: int = 8080,
                 timeout_s: float = 30) -> None:
        argv = ["kubectl", "--namespace", namespace, "port-forward", "--address", "127.0.0.1",
                f"service/{service}", f":{port}"]
        self.popen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        found = threading.Event()
        self.local_port = 0

        def read() -> None:
            assert self.popen.stdout is not None
            for line in self.popen.stdout:
                self.lines.append(line.rstrip())
                match = re.search(r"Forwarding from 127\.0\.0\.1:(\d+)", line)
                if match and not found.is_set():
                    self.local_port = int(match.group(1))
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(timeout_s):
            self.stop()
            raise KubeError(f"port-forward to service/{service} did not start: {self.lines[-5:]}")
        self.base_url = f"http://127.0.0.1:{self.local_port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()

    def __enter__(self) -> PortForward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class KubeDeployment:
    """The ATLAS server Deployment and Service of one run, in a namespace of their own."""

    def __init__(self, namespace: str, overlay: Path = DEFAULT_OVERLAY,
                 image: str | None = None) -> None:
        self.namespace = namespace
        self.overlay = Path(overlay)
        self.image = image
        self.created = False

    @classmethod
    def create(cls, overlay: Path | None = None, image: str | None = None) -> KubeDeployment:
        """A deployment in a new namespace ``atlas-suite-<random>`` (not deployed yet)."""
        overlay = overlay or Path(os.environ.get("ATLAS_K8S_OVERLAY") or DEFAULT_OVERLAY)
        image = image or os.environ.get("ATLAS_K8S_IMAGE") or None
        return cls(f"atlas-suite-{uuid.uuid4().hex[:8]}", overlay, image)

    def kubectl(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        return kubectl(*args, namespace=self.namespace, timeout=timeout, check=check)

    def deploy(self) -> None:
        """Create the namespace and apply the overlay into it."""
        kubectl("create", "namespace", self.namespace)
        self.created = True
        kubectl("label", "namespace", self.namespace, "atlas-suite=1")
        with tempfile.TemporaryDirectory(prefix="atlas-suite-k8s-") as folder:
            (Path(folder) / "kustomization.yaml").write_text(
                wrapping_kustomization(self.overlay, Path(folder), self.namespace, self.image))
            kubectl("apply", "-k", folder, timeout=300)

    def wait_rollout(self, timeout_s: float = 600) -> None:
        """``kubectl rollout status``: every replica updated and available."""
        self.kubectl("rollout", "status", f"deployment/{APP}", f"--timeout={int(timeout_s)}s",
                     timeout=timeout_s + 30)

    def deployment(self) -> dict[str, Any]:
        return json.loads(self.kubectl("get", "deployment", APP, "-o", "json"))

    def replicas(self) -> tuple[int, int]:
        """(desired, ready) replicas of the Deployment."""
        deployment = self.deployment()
        return (int(deployment["spec"].get("replicas", 1)),
                int(deployment.get("status", {}).get("readyReplicas") or 0))

    def pods(self) -> list[dict[str, Any]]:
        return json.loads(self.kubectl("get", "pods", "-l", SELECTOR, "-o", "json"))["items"]

    def ready_pods(self) -> list[str]:
        """The names of the server's Ready pods."""
        return sorted(p["metadata"]["name"] for p in self.pods() if is_ready(p))

    def service_endpoints(self) -> int:
        """How many ready addresses the Service routes to."""
        endpoints = json.loads(self.kubectl("get", "endpoints", APP, "-o", "json"))
        return sum(len(subset.get("addresses") or []) for subset in endpoints.get("subsets")
                   or [])

    def rolling_restart(self) -> None:
        """``kubectl rollout restart``: new pods replace the old ones, one at a time."""
        self.kubectl("rollout", "restart", f"deployment/{APP}")

    def delete_pod(self, name: str) -> None:
        """Delete a pod the way a node failure or an operator would (no waiting)."""
        self.kubectl("delete", "pod", name, "--wait=false")

    def wait_ready(self, count: int, timeout_s: float, avoid: frozenset[str] = frozenset()
                   ) -> list[str]:
        """Poll until ``count`` pods are Ready, none of them in ``avoid``; their names."""
        deadline = time.monotonic() + timeout_s
        ready: list[str] = []
        while time.monotonic() < deadline:
            ready = [name for name in self.ready_pods() if name not in avoid]
            if len(ready) >= count:
                return ready
            time.sleep(2)
        raise KubeError(f"only {len(ready)} of {count} pods were ready after {timeout_s:.0f} s "
                        f"(not counting {sorted(avoid)}); pods: {self._describe_pods()}")

    def _describe_pods(self) -> str:
        try:
            return self.kubectl("get", "pods", "-o", "wide", check=False)[-1500:]
        except KubeError as exc:
            return str(exc)

    def port_forward(self) -> PortForward:
        return PortForward(self.namespace)

    def logs_tail(self, lines: int = 60) -> str:
        try:
            return self.kubectl("logs", f"deployment/{APP}", f"--tail={lines}",
                                "--all-containers", check=False, timeout=30)
        except KubeError as exc:
            return f"(no logs: {exc})"

    def delete(self) -> None:
        """Delete the namespace and everything in it (without waiting)."""
        if self.created:
            kubectl("delete", "namespace", self.namespace, "--wait=false", check=False)
            self.created = False


class KubeServer(Server):
    """A deployment as the generic steps see a server (the ``Server`` protocol): requests go
    through the Service (by a port-forward on 127.0.0.1); logs come from the Deployment's pods.
    ``ensure_deployed`` deploys it once, however many scenarios ask."""

    started_by_suite = True
    process = None
    memory_dir = None
    root_dir = None
    api_key = None  # the overlays start the server without a key

    def __init__(self, deployment: KubeDeployment) -> None:
        self.deployment = deployment
        self.config = KubeTarget(deployment.namespace, str(deployment.overlay))
        self.cache: dict[str, object] = {}
        self.last_exit_code: int | None = None
        self.last_stop_log_tail = ""
        self.forward: PortForward | None = None
        self.deploy_tried = False

    def ensure_deployed(self, timeout_s: float = 600) -> None:
        """Apply the overlay and wait for the rollout, on the first call only (a failed deploy
        is not tried again: the next scenarios fail on the same deployment)."""
        if self.deploy_tried:
            return
        self.deploy_tried = True
        self.deployment.deploy()
        self.deployment.wait_rollout(timeout_s)

    @property
    def base_url(self) -> str:
        if self.forward is None or not self.forward.alive():
            self.reconnect()
        assert self.forward is not None
        return self.forward.base_url

    def reconnect(self) -> None:
        """A new port-forward to the Service (one ends when the pod behind it goes away)."""
        if self.forward is not None:
            self.forward.stop()
        self.forward = self.deployment.port_forward()

    def alive(self) -> bool:
        try:
            return self.deployment.replicas()[1] > 0
        except KubeError:
            return False

    def log_tail(self, n: int = 60) -> str:
        return self.deployment.logs_tail(n)

    def log_text(self) -> str:
        return self.deployment.logs_tail(100000)

    def stop(self, timeout_s: float = 60.0) -> int | None:
        raise Unsupported("the suite does not stop a Kubernetes deployment: it deletes pods or "
                          "restarts the rollout, and the Deployment replaces them")

    def require_memory_dir(self) -> Path:
        raise Unsupported("the memory folder is a PersistentVolumeClaim inside the cluster")

    def require_process(self) -> Any:
        raise Unsupported("a Kubernetes deployment has no host process")

    def close(self) -> None:
        if self.forward is not None:
            self.forward.stop()
            self.forward = None
