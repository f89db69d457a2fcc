"""The container layer without a container engine: argument mapping, skip reasons, the
entrypoint's argument handling, the Dockerfiles, and the Kubernetes manifests (validated
offline against the Kubernetes JSON schemas that kubernetes-validate ships)."""

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
    assert c._imported_id(answer) == "sha256:abc"
    with pytest.raises(c.ContainerError):
        c._imported_id('{"status":"nothing"}')


# ---- skip reasons --------------------------------------------------------------------------

@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    c._client.cache_clear()
    yield
    c._client.cache_clear()


@pytest.mark.usefixtures("no_engine")
def test_engine_unavailable_says_why_and_what_to_run() -> None:
    ok, reason = c.engine_available()
    assert not ok
    assert "absent.sock" in reason and "scripts/container-engine.sh" in reason


@pytest.mark.usefixtures("no_engine")
def test_image_skip_reason_without_engine() -> None:
    reason = c.image_skip_reason()
    assert reason is not None and "container engine" in reason


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
