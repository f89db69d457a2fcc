"""The container layer without a container engine: argument mapping, skip reasons, the
entrypoint's argument handling, the Dockerfiles, the Kubernetes manifests (validated offline
against the Kubernetes JSON schemas that kubernetes-validate ships), the container pool and its
steps' adapter on a fake engine, the save storm on a fake server, NVML through a fake pynvml,
and the Kubernetes driver without a cluster."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas_suite import containers as c
from atlas_suite import gpu, kube
from atlas_suite.config import ServerConfig
from atlas_suite.containers import engine
from atlas_suite.containers import pool as pool_module
from atlas_suite.targets import Unsupported
from atlas_suite.workloads import SaveStorm, WorkloadError

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
K8S = DOCKER / "k8s"
K8S_VERSION = "1.30.0"


# ---- argument mapping ----------------------------------------------------------------------

def test_default_server_args_are_llama_server_style() -> None:
    assert c.default_server_args() == ["-m", "/models/test-model.gguf", "--port", "8080",
                                       "--atlas"]
    assert c.default_server_args(["-np", "2"], atlas=False)[-2:] == ["-np", "2"]
    assert "--atlas" not in c.default_server_args(atlas=False)
    assert c.default_server_args(["--atlas"]).count("--atlas") == 1


def test_bind_mount_maps_to_atlas_memory(tmp_path: Path) -> None:
    spec = c.make_spec("img:1", memory_dir=tmp_path, port=18080, host_uid=0)
    kwargs = spec.run_kwargs()
    assert kwargs["volumes"] == {str(tmp_path.resolve()): {"bind": "/atlas-memory",
                                                           "mode": "rw"}}
    assert kwargs["ports"] == {"8080/tcp": ("127.0.0.1", 18080)}
    assert kwargs["detach"] is True
    assert kwargs["labels"] == {c.SUITE_LABEL: "1"}
    assert "tmpfs" not in kwargs and "user" not in kwargs and "mem_limit" not in kwargs
    assert kwargs["command"] == c.default_server_args()


def test_tmpfs_is_size_limited_and_becomes_the_memory_dir() -> None:
    kwargs = c.make_spec(tmpfs_size="200k", env={"A": "1"}).run_kwargs()
    assert kwargs["tmpfs"] == {c.CONTAINER_TMPFS_DIR: "size=200k,mode=1777"}
    assert kwargs["environment"] == {"A": "1", "ATLAS_MEMORY_DIR": c.CONTAINER_TMPFS_DIR}
    assert "volumes" not in kwargs


def test_random_port_memory_limit_and_name() -> None:
    kwargs = c.make_spec(mem_limit="1g", name="atlas-x", args=["--help"]).run_kwargs()
    assert kwargs["ports"] == {"8080/tcp": ("127.0.0.1", None)}
    assert kwargs["mem_limit"] == "1g" and kwargs["name"] == "atlas-x"
    assert kwargs["command"] == ["--help"]


def test_bind_mount_and_tmpfs_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exclude"):
        c.make_spec(memory_dir=tmp_path, tmpfs_size="1m")


def test_container_user_follows_the_host_user(tmp_path: Path) -> None:
    assert c.bind_mount_user(tmp_path, host_uid=0) is None  # root: the image's user 10001
    assert c.bind_mount_user(tmp_path, host_uid=1234) == f"1234:{os.getgid()}"
    assert c.bind_mount_user(None, host_uid=1234) is None
    assert c.make_spec(memory_dir=tmp_path, host_uid=1234).run_kwargs()["user"].startswith(
        "1234:")


def test_imported_image_id_is_read_from_the_engine_answer() -> None:
    answer = '{"status":"Importing"}\n{"status":"sha256:abc","progress":""}\n'
    assert engine._imported_id(answer) == "sha256:abc"
    with pytest.raises(c.ContainerError):
        engine._imported_id('{"status":"nothing"}')


# ---- skip reasons --------------------------------------------------------------------------

@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    engine._client.cache_clear()
    yield
    engine._client.cache_clear()


@pytest.mark.usefixtures("no_engine")
def test_engine_unavailable_says_why_and_what_to_run() -> None:
    ok, reason = c.engine_available()
    assert not ok
    assert "absent.sock" in reason and "scripts/container-engine.sh" in reason


@pytest.mark.usefixtures("no_engine")
def test_image_skip_reason_without_engine() -> None:
    reason = c.image_skip_reason()
    assert reason is not None and "container engine" in reason


def test_engine_url_follows_the_engine_script(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    import socket

    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert c.engine_url() == "tcp://127.0.0.1:2375"
    monkeypatch.delenv("DOCKER_HOST")
    if Path("/var/run/docker.sock").exists():
        assert c.engine_url() is None  # Docker's socket: the SDK's default
        return
    monkeypatch.setenv("ATLAS_PODMAN_SOCKET", str(tmp_path / "absent.sock"))
    assert c.engine_url() is None
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "podman.sock"))
        monkeypatch.setenv("ATLAS_PODMAN_SOCKET", str(tmp_path / "podman.sock"))
        assert c.engine_url() == f"unix://{tmp_path}/podman.sock"


# ---- the entrypoint --------------------------------------------------------------------------

def run_entrypoint(tmp_path: Path, *args: str) -> list[str]:
    env = {"PATH": os.environ["PATH"], "ATLAS_SERVER_CMD": "printf %s\\n",
           "ATLAS_PORT_FILE": str(tmp_path / "port")}
    out = subprocess.run(["sh", str(DOCKER / "entrypoint.sh"), *args], env=env, check=True,
                         capture_output=True, text=True, timeout=10).stdout
    return out.splitlines()


def test_entrypoint_adds_host_and_memory_dir(tmp_path: Path) -> None:
    argv = run_entrypoint(tmp_path, "-m", "/models/test-model.gguf", "--atlas", "--port", "9000")
    assert argv == ["-m", "/models/test-model.gguf", "--atlas", "--port", "9000",
                    "--host", "0.0.0.0", "--atlas-memory-dir", "/atlas-memory"]
    assert (tmp_path / "port").read_text().strip() == "9000"


def test_entrypoint_keeps_explicit_host_and_memory_dir(tmp_path: Path) -> None:
    argv = run_entrypoint(tmp_path, "--host=127.0.0.1", "--atlas-memory-dir", "/x", "--port=81")
    assert argv == ["--host=127.0.0.1", "--atlas-memory-dir", "/x", "--port=81"]
    assert (tmp_path / "port").read_text().strip() == "81"


def test_entrypoint_runs_other_commands_as_given(tmp_path: Path) -> None:
    assert run_entrypoint(tmp_path, "echo", "hi") == ["hi"]


@pytest.mark.parametrize("script", ["docker/entrypoint.sh", "scripts/container-engine.sh",
                                    "scripts/build-images.sh"])
def test_shell_scripts_parse(script: str) -> None:
    shell = "sh" if script.endswith("entrypoint.sh") else "bash"
    subprocess.run([shell, "-n", str(ROOT / script)], check=True, timeout=10)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(ROOT / script)], check=True, timeout=30)


# ---- the Dockerfiles --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Dockerfile.cpu", "Dockerfile.gpu"])
def test_dockerfile_requirements(name: str) -> None:
    text = (DOCKER / name).read_text()
    first_from = text.index("\nFROM ")
    assert "ARG BASE_IMAGE=" in text[:first_from], "BASE_IMAGE must be declared before FROM"
    assert "FROM ${BASE_IMAGE}" in text
    assert "USER 10001" in text, "the server runs as a non-root user"
    assert 'VOLUME ["/models", "/atlas-memory"]' in text
    assert "HEALTHCHECK" in text and "healthcheck" in text
    assert 'ENTRYPOINT ["/usr/local/bin/atlas-entrypoint"]' in text
    assert '"/models/test-model.gguf", "--atlas"' in text
    assert "ARG SERVER_CMD=" in text and "ATLAS_SERVER_CMD=${SERVER_CMD}" in text


def test_gpu_dockerfile_uses_cuda() -> None:
    text = (DOCKER / "Dockerfile.gpu").read_text()
    assert "ARG BASE_IMAGE=nvidia/cuda:12." in text and "-runtime-ubuntu22.04" in text
    assert "xorbitsai.github.io/xllamacpp/whl/cu128" in text
    assert '"--cuda"' in text


# ---- Kubernetes: a small kustomize, then the schemas ---------------------------------------------

def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def strategic_merge(base: Any, patch: Any) -> Any:
    """Kustomize's strategic merge, as far as these manifests need it: maps merge, lists of
    named maps (containers, volumes, env, ports, mounts) merge by name, other lists replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = strategic_merge(base[key], value) if key in base else value
        return merged
    named = (isinstance(base, list) and isinstance(patch, list)
             and all(isinstance(item, dict) and "name" in item for item in base + patch))
    if named and base:
        merged_list = [copy.deepcopy(item) for item in base]
        index = {item["name"]: i for i, item in enumerate(merged_list)}
        for item in patch:
            if item["name"] in index:
                merged_list[index[item["name"]]] = strategic_merge(
                    merged_list[index[item["name"]]], item)
            else:
                merged_list.append(item)
        return merged_list
    return copy.deepcopy(patch)


def pod_containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("initContainers", []) + spec.get("containers", [])


def render(folder: Path) -> list[dict[str, Any]]:
    """The objects ``kustomize build folder`` would print, for the features used here."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = (folder / resource).resolve()
        objects += render(path) if path.is_dir() else load_yaml_documents(path)
    for entry in kustomization.get("patches", []):
        for patch in load_yaml_documents(folder / entry["path"]):
            targets = [o for o in objects if o["kind"] == patch["kind"]
                       and o["metadata"]["name"] == patch["metadata"]["name"]]
            assert targets, f"patch {entry['path']} matches no resource"
            for target in targets:
                objects[objects.index(target)] = strategic_merge(target, patch)
    for image in kustomization.get("images", []):
        for obj in objects:
            for container in pod_containers(obj):
                if container["image"].split(":")[0] == image["name"]:
                    container["image"] = f"{image.get('newName', image['name'])}:" \
                                         f"{image.get('newTag', 'latest')}"
    for label in kustomization.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
    return objects


OVERLAYS = ["overlays/cpu", "overlays/gpu"]


def kubernetes_validate() -> Any:
    return pytest.importorskip("kubernetes_validate",
                               reason="kubernetes-validate (the offline schemas) is not installed")


@pytest.mark.parametrize("path", sorted(p.relative_to(K8S).as_posix()
                                        for p in K8S.rglob("*.yaml")
                                        if p.name != "kustomization.yaml"
                                        and "patch" not in p.name))
def test_base_manifest_matches_the_kubernetes_schema(path: str) -> None:
    validator = kubernetes_validate()
    for doc in load_yaml_documents(K8S / path):
        validator.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlay_matches_the_kubernetes_schema(overlay: str) -> None:
    validator = kubernetes_validate()
    objects = render(K8S / overlay)
    assert sorted(o["kind"] for o in objects) == [
        "Deployment", "PersistentVolumeClaim", "PersistentVolumeClaim", "Service"]
    for obj in objects:
        validator.validate(obj, K8S_VERSION, strict=True)


def deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == "Deployment")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployment_is_what_the_issue_asks(overlay: str) -> None:
    objects = render(K8S / overlay)
    deploy = deployment(objects)
    pod = deploy["spec"]["template"]["spec"]
    server = next(x for x in pod["containers"] if x["name"] == "atlas-server")
    assert deploy["spec"]["replicas"] == 2
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert server[probe]["httpGet"]["path"] == "/health"
    assert server["lifecycle"]["preStop"]["exec"]["command"]
    assert "--atlas-memory-persist" in server["args"]
    assert pod["terminationGracePeriodSeconds"] > 30 + 10, "shutdown timeout + preStop drain"
    assert set(server["resources"]) == {"requests", "limits"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]
              if "persistentVolumeClaim" in v}
    pvcs = {o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"}
    assert claims == pvcs == {"atlas-models", "atlas-memory"}
    mounts = {m["mountPath"] for m in server["volumeMounts"]}
    assert {"/models", "/atlas-memory"} <= mounts
    service = next(o for o in objects if o["kind"] == "Service")
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deploy["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_gpu_overlay_asks_for_a_gpu_and_its_image() -> None:
    pod = deployment(render(K8S / "overlays/gpu"))["spec"]["template"]["spec"]
    server = next(x for x in pod["containers"] if x["name"] == "atlas-server")
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "--cuda" in server["args"]
    assert all(x["image"].startswith("atlas-server-gpu:") for x in pod_containers(
        {"spec": {"template": {"spec": pod}}}))


def test_cpu_overlay_keeps_the_cpu_image() -> None:
    pod = deployment(render(K8S / "overlays/cpu"))["spec"]["template"]["spec"]
    assert {x["image"] for x in pod["containers"]} == {"atlas-server-cpu:latest"}
    assert "nvidia.com/gpu" not in str(pod)


# ---- container configurations, the pool and the steps' adapter (a fake engine) -----------------



def test_container_config_maps_server_flags() -> None:
    config = c.ContainerConfig(ServerConfig(persist=True, memory_budget_mb=1), image="img:1")
    assert config.args() == ["-m", "/models/test-model.gguf", "--port", "8080", "--atlas",
                             "--atlas-memory-persist", "-c", "4096", "-np", "4",
                             "--atlas-memory-budget-mb", "1"]
    assert c.ContainerConfig(image_command=True).args() == []
    assert "--cuda" in c.ContainerConfig(gpu=True).args()
    assert "--atlas" not in c.ContainerConfig(ServerConfig(atlas=False)).args()
    assert c.ContainerConfig(tmpfs_size="400k", mem_limit="1g").label() == \
        "container_atlas_tmpfs=400k_mem=1g"
    assert c.ContainerConfig(image_command=True) == c.ContainerConfig(image_command=True)


def test_container_config_refuses_what_a_container_cannot_do() -> None:
    with pytest.raises(ValueError, match="tmpfs_size"):
        c.ContainerConfig(ServerConfig(fsize_limit_kb=64))
    with pytest.raises(ValueError, match="one model"):
        c.ContainerConfig(ServerConfig(model="tiny"))


def test_suite_image_follows_the_build_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATLAS_IMAGE", raising=False)
    assert c.suite_image() == "atlas-server-cpu:latest"
    monkeypatch.setenv("ATLAS_IMAGE", "mine:2")
    assert c.suite_image() == "mine:2" and c.ContainerConfig().image == "mine:2"


def test_image_command_extra_labels_and_gpus() -> None:
    kwargs = c.make_spec(args=[], labels={c.RUN_LABEL: "r1"}).run_kwargs()
    assert "command" not in kwargs, "no args: the image's own CMD"
    assert kwargs["labels"] == {c.SUITE_LABEL: "1", c.RUN_LABEL: "r1"}
    docker_gpu = c.make_spec(gpu=True).run_kwargs()
    assert docker_gpu["device_requests"][0]["Capabilities"] == [["gpu"]]
    assert docker_gpu["device_requests"][0]["Count"] == -1
    assert c.make_spec(gpu=True).run_kwargs(podman=True)["devices"] == [c.CDI_GPUS]
    assert "devices" not in kwargs and "device_requests" not in kwargs


def test_nvidia_runtime_reason() -> None:
    assert c.nvidia_runtime_reason(["runc", "nvidia"], [], []) is None
    assert c.nvidia_runtime_reason(["runc"], ["nvidia-ctk"], []) is None
    assert c.nvidia_runtime_reason([], [], ["/etc/cdi/nvidia.yaml"]) is None
    reason = c.nvidia_runtime_reason(["runc"], [], [])
    assert reason is not None and "NVIDIA runtime" in reason


class FakeHandle:
    """What ContainerServer and ContainerPool use of ServerContainer, without an engine."""

    def __init__(self, name: str, **spec: Any) -> None:
        self.name = name
        self.spec = spec
        self.base_url = "http://127.0.0.1:1"
        self.state = "running"
        self.removed = False

    @property
    def status(self) -> str:
        return self.state

    def wait_healthy(self, timeout_s: float) -> float:
        return 0.5

    def logs_tail(self, lines: int = 50) -> str:
        return f"tail of {self.name}"

    def logs_text(self) -> str:
        return f"log of {self.name}\n"

    def remove(self) -> None:
        self.removed = True
        self.state = "removed"

    def stop(self, timeout_s: float) -> int:
        self.state = "exited"
        return 0


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> list[FakeHandle]:
    started: list[FakeHandle] = []

    def run_server(image: str, **spec: Any) -> FakeHandle:
        handle = FakeHandle(spec.pop("name"), image=image, **spec)
        started.append(handle)
        return handle

    monkeypatch.setattr(pool_module, "run_server", run_server)
    monkeypatch.setattr(pool_module, "remove_suite_containers", lambda run=None: 0)
    return started


def test_pool_shares_one_container_per_configuration(fake_engine: list[FakeHandle],
                                                      tmp_path: Path) -> None:
    pool = c.ContainerPool(tmp_path / "logs")
    config = c.ContainerConfig(image_command=True)
    first = pool.get(config)
    assert pool.get(config) is first and len(fake_engine) == 1
    assert fake_engine[0].spec["labels"] == {c.RUN_LABEL: pool.run_id}
    assert fake_engine[0].spec["args"] == [] and first.memory_dir is not None
    assert first.healthy_after_s == 0.5 and first.started_by_suite and first.process is None
    fake_engine[0].state = "exited"  # it died: the next scenario gets a new one
    second = pool.get(config)
    assert second is not first and fake_engine[0].removed and len(fake_engine) == 2
    assert (tmp_path / "logs").is_dir() and any((tmp_path / "logs").iterdir())
    assert pool.remove_all() == 1 and fake_engine[1].removed
    assert not pool.root.exists()


def test_pool_replaces_a_container_on_the_same_memory_folder(fake_engine: list[FakeHandle],
                                                              tmp_path: Path) -> None:
    pool = c.ContainerPool(tmp_path / "logs")
    server = pool.start(c.ContainerConfig(ServerConfig(persist=True)))
    assert server.stop() == 0 and server.last_exit_code == 0
    assert server.last_stop_log_tail.startswith("tail of")
    new = pool.replace(server)
    assert server.removed and not server.alive()
    assert new.memory_dir == server.memory_dir and new.config == server.config
    assert fake_engine[1].spec["memory_dir"] == server.memory_dir
    pool.discard(new)
    pool.discard(new)  # idempotent
    pool.remove_all()


def test_tmpfs_container_has_no_host_memory_folder(fake_engine: list[FakeHandle],
                                                   tmp_path: Path) -> None:
    pool = c.ContainerPool(tmp_path / "logs")
    server = pool.get(c.ContainerConfig(tmpfs_size="400k"))
    assert server.memory_dir is None and fake_engine[0].spec["memory_dir"] is None
    assert server.container_memory_dir == c.CONTAINER_TMPFS_DIR
    with pytest.raises(Unsupported, match="tmpfs"):
        server.require_memory_dir()
    with pytest.raises(Unsupported):
        server.require_process()
    assert server.config.label() == "container_atlas_tmpfs=400k"
    assert server.log_tail() == f"tail of {server.name}"
    pool.remove_all()


# ---- a kill in the middle of saves: the storm's bookkeeping against a fake server ---------------

def fake_atlas_server() -> Any:
    """A threaded HTTP server with a memory "state": completions change it, saves answer its
    fingerprint (slowly, so saves overlap)."""
    import hashlib
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    memory = {"state": 0, "changes_after_freeze": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                if self.path == "/v1/completions":
                    memory["state"] += 1
                state = memory["state"]
            time.sleep(0.002)
            answer = {"fingerprint": hashlib.sha256(str(state).encode()).hexdigest()}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, memory


def test_save_storm_freezes_on_a_saved_state_and_counts_cut_off_saves() -> None:
    import hashlib

    server, memory = fake_atlas_server()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    storm = SaveStorm(url, "crash.atlas", lambda i: {"prompt": f"text {i}"}, savers=3).start()
    storm.freeze(min_saves=30, min_reads=3, timeout_s=30)
    frozen_state = memory["state"]
    current = hashlib.sha256(str(frozen_state).encode()).hexdigest()
    server.shutdown()
    server.server_close()  # "the kill": every following save finds no server
    report = storm.finish()
    assert memory["state"] == frozen_state, "no memory change after the freeze"
    assert report.reads >= 3 and len(report.answered) >= 30 and not report.failures
    assert current in report.answered, "the state at the kill was answered by a save"
    every_state = {hashlib.sha256(str(s).encode()).hexdigest() for s in range(frozen_state + 1)}
    assert every_state <= set(report.answered), "every state the memory had was answered"
    assert report.cut_off >= 1 and "cut off" in report.summary()


def test_save_storm_reports_a_server_that_never_answers() -> None:
    storm = SaveStorm("http://127.0.0.1:9", "x.atlas", lambda i: {}, savers=1).start()
    with pytest.raises(WorkloadError, match="did not get going"):
        storm.freeze(min_saves=5, timeout_s=5)
    storm.finish()


# ---- GPU: NVML through a fake pynvml ------------------------------------------------------------



class FakeNvml:
    def __init__(self, init_error: Exception | None = None, count: int = 1,
                 busy: int = 37) -> None:
        self.init_error, self.count, self.busy = init_error, count, busy

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's names
        if self.init_error:
            raise self.init_error

    def nvmlShutdown(self) -> None:  # noqa: N802
        pass

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return self.count

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:  # noqa: N802
        return type("Rates", (), {"gpu": self.busy, "memory": 5})()


@pytest.fixture
def nvml(monkeypatch: pytest.MonkeyPatch) -> Any:
    def use(fake: FakeNvml) -> None:
        monkeypatch.setattr(gpu, "_pynvml", lambda: fake)
        gpu.nvml_skip_reason.cache_clear()

    yield use
    gpu.nvml_skip_reason.cache_clear()


def test_gpu_skip_reasons(nvml: Any) -> None:
    nvml(FakeNvml(init_error=RuntimeError("NVML Shared Library Not Found")))
    assert gpu.nvml_skip_reason() == \
        "no NVIDIA GPU: pynvml.nvmlInit() failed (NVML Shared Library Not Found)"
    assert gpu.gpu_count() == 0
    nvml(FakeNvml(count=0))
    assert gpu.nvml_skip_reason() == "no NVIDIA GPU: NVML sees no device"
    nvml(FakeNvml(count=2))
    assert gpu.nvml_skip_reason() is None and gpu.gpu_count() == 2


def test_gpu_utilisation_is_sampled_during_a_load(nvml: Any) -> None:
    import time

    nvml(FakeNvml(count=2, busy=42))
    with gpu.UtilisationSampler(0.01) as sampler:
        time.sleep(0.1)
    assert sampler.report.peak_percent == 42 and sampler.report.busy_samples >= 2
    assert all(len(values) == 2 for _, values in sampler.report.samples)
    assert "peak 42 %" in sampler.report.summary()


# ---- Kubernetes without a cluster ---------------------------------------------------------------

def test_k8s_skips_without_a_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    kube.skip_reason.cache_clear()
    try:
        assert kube.skip_reason() == "no Kubernetes cluster: no KUBECONFIG and no ~/.kube/config"
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
        kube.skip_reason.cache_clear()
        assert "names no file" in (kube.skip_reason() or "")
    finally:
        kube.skip_reason.cache_clear()


def test_k8s_image_names_and_pod_readiness() -> None:
    assert kube.split_image("reg:5000/atlas:v1") == ("reg:5000/atlas", "v1")
    assert kube.split_image("reg:5000/atlas") == ("reg:5000/atlas", "latest")
    assert kube.split_image("atlas-server-cpu") == ("atlas-server-cpu", "latest")
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}, "metadata": {}}
    assert kube.is_ready(ready)
    assert not kube.is_ready({**ready, "metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}})
    assert not kube.is_ready({"status": {"conditions": [{"type": "Ready", "status": "False"}]}})


def test_k8s_wrapping_kustomization(tmp_path: Path) -> None:
    text = kube.wrapping_kustomization(kube.DEFAULT_OVERLAY, tmp_path, "atlas-suite-x",
                                       "reg/atlas:v2")
    data = yaml.safe_load(text)
    assert data["namespace"] == "atlas-suite-x"
    assert not Path(data["resources"][0]).is_absolute(), "kustomize refuses absolute roots"
    assert (tmp_path / data["resources"][0]).resolve() == kube.DEFAULT_OVERLAY.resolve()
    assert data["images"] == [{"name": "atlas-server-cpu", "newName": "reg/atlas",
                               "newTag": "v2"}]
    if not shutil.which("kubectl"):
        return  # the rendering below needs kubectl's built-in kustomize (no cluster)
    (tmp_path / "kustomization.yaml").write_text(text)
    rendered = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True,
                              text=True, timeout=60)
    if rendered.returncode != 0:
        pytest.skip(f"kubectl kustomize does not run here: {rendered.stderr[-300:]}")
    objects = [o for o in yaml.safe_load_all(rendered.stdout) if o]
    assert {o["metadata"]["namespace"] for o in objects} == {"atlas-suite-x"}
    assert {x["image"] for x in pod_containers(deployment(objects))} == {"reg/atlas:v2"}

