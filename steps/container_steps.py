"""The server in containers (Docker or podman through DOCKER_HOST), on a GPU, and on Kubernetes.

A container becomes "the server" of the scenario (``use_server``), so every generic HTTP, JSON,
status and memory step talks to it; these steps add what only a container has: its image, its
lifecycle (stop, remove, kill, start again), its limits and the files inside it.
"""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to, greater_than, is_in, is_not

from atlas_suite import routes
from atlas_suite.atlas import atlas_extension, expect_ok
from atlas_suite.config import ServerConfig
from atlas_suite.containers import ContainerConfig, ContainerServer, gpu_image
from atlas_suite.gpu import UtilisationSampler
from atlas_suite.http import describe_text
from atlas_suite.kube import KubeServer
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.catalogue import deprecated
from atlas_suite.steplib.fixtures import cluster, containers
from atlas_suite.steplib.support import (
    api,
    current_server,
    http,
    last_json,
    noted,
    notes,
    use_server,
)
from atlas_suite.texts import long_prompt
from atlas_suite.workloads import SaveStorm, burst

DOMAIN = "containers"


# -- the run's containers (the container_pool fixture, atlas_suite/steplib/fixtures.py) -----------
def _container(context: Any) -> ContainerServer:
    server = current_server(context)
    assert isinstance(server, ContainerServer), "this step needs a server container: start the " \
        "scenario with a Given ... container step"
    return server


def _fresh(context: Any, config: ContainerConfig) -> ContainerServer:
    """A new container for a lifecycle scenario, removed when the scenario ends."""
    pool = containers(context)
    server = pool.start(config)
    context.add_cleanup(pool.discard, server)
    return use_server(context, server)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# -- which container ----------------------------------------------------------------------------
@given("the ATLAS server container is running")
def step_container(context: Any) -> None:
    """The CPU image run as operators run it: ``docker run -p 8080:8080 -v FOLDER:/atlas-memory
    atlas-server-cpu`` with the image's own command (the test model, ATLAS on), a host folder as
    its memory folder; ready once the health check answers (polled, never a fixed wait). One
    container shared by the scenarios that use this step."""
    use_server(context, containers(context).get(ContainerConfig(image_command=True)))


@given("a fresh ATLAS server container with its memory folder mounted from the host")
def step_fresh_container(context: Any) -> None:
    """A new container (parallel 4, context 4096) whose /atlas-memory is a new host folder;
    removed when the scenario ends."""
    _fresh(context, ContainerConfig())


@given("a fresh ATLAS server container that keeps its memory across restarts")
def step_fresh_persistent(context: Any) -> None:
    """A new container with ``--atlas-memory-persist`` and a new host folder as its memory."""
    _fresh(context, ContainerConfig(ServerConfig(persist=True)))


@given('a fresh ATLAS server container that starts from the memory file "{name}"')
def step_fresh_memory_file(context: Any, name: str) -> None:
    """A new container with ``--atlas-memory-file NAME`` (loaded at start, written at a
    graceful stop) and a new host folder as its memory."""
    _fresh(context, ContainerConfig(ServerConfig(memory_file=name)))


@given("an ATLAS server container whose memory folder is a {size:ByteSize} tmpfs")
def step_tmpfs_container(context: Any, size: int) -> None:
    """A container whose memory folder is a size-limited tmpfs inside it: a disk that is really
    full after ``size`` (e.g. "400 KiB"; one memory file of the test model is about 266 kB)."""
    config = ContainerConfig(tmpfs_size=f"{max(size // 1024, 1)}k")
    use_server(context, containers(context).get(config))


@given("an ATLAS server container limited to {limit:ByteSize} of memory, with a memory budget "
       "of {mb:Int} MB")
def step_limited_container(context: Any, limit: int, mb: int) -> None:
    """A container with a memory limit (``docker run --memory``) whose server runs with
    ``--atlas-memory-budget-mb MB``."""
    config = ContainerConfig(ServerConfig(memory_budget_mb=mb), mem_limit=str(limit))
    use_server(context, containers(context).get(config))


@given("the ATLAS server container is running on the GPU")
def step_gpu_container(context: Any) -> None:
    """The GPU image (``$ATLAS_GPU_IMAGE``, default atlas-server-gpu:latest) with every GPU
    (``--gpus all``, or podman's CDI device) and ``--cuda``."""
    config = ContainerConfig(image=gpu_image(), gpu=True)
    use_server(context, containers(context).get(config))


# -- lifecycle ----------------------------------------------------------------------------------
@when("the container is stopped")
def step_stop(context: Any) -> None:
    """``docker stop``: SIGTERM, up to 60 s for a graceful shutdown; "the server exited with
    code N" then reads its exit code. The memory it had just before is kept, to compare with
    what a new container starts with."""
    server = _container(context)
    notes(context)["memory before stop"] = api(context).memory_in_use()
    server.stop(60)


@when("the container is removed")
def step_remove(context: Any) -> None:
    """``docker rm -f``: the container is gone; its host memory folder stays."""
    server = _container(context)
    containers(context).discard(server)
    assert_that(server.exists(), equal_to(False), f"the engine still has {server.name}")


@when("a new container is started on the same memory folder")
def step_replace(context: Any) -> None:
    """A new container of the same configuration, mounting the same host memory folder (the
    previous container is removed first if it still exists). The memory the new one starts
    with is kept for "the new container started ..." steps."""
    pool = containers(context)
    previous = _container(context)
    notes(context)["previous container"] = previous
    server = pool.replace(previous)
    context.add_cleanup(pool.discard, server)
    use_server(context, server)
    notes(context)["memory at start"] = api(context).memory_in_use()


@when("the container is started again")
def step_start_again(context: Any) -> None:
    """``docker start`` of the stopped container: same file system and volumes; ready once
    ``/health`` answers 200."""
    server = _container(context)
    server.start_again(containers(context).startup_timeout_s)
    use_server(context, server)


@then("the container became healthy within {seconds:Int} seconds")
def step_healthy_within(context: Any, seconds: int) -> None:
    """From ``docker run`` (or ``docker start``) to the first 200 of ``/health`` took at most
    ``seconds``."""
    took = _container(context).healthy_after_s
    assert_that(took is not None and took <= seconds, equal_to(True),
                f"the container took {took} s to become healthy")


@then("the image's health check passes inside the container")
def step_image_healthcheck(context: Any) -> None:
    """The image's own HEALTHCHECK command, run inside the container, exits 0."""
    code, output = _container(context).run_healthcheck()
    assert_that(code, equal_to(0), f"the health check failed: {output[-600:]}")


@then("the server in the container does not run as root")
def step_not_root(context: Any) -> None:
    """Processes inside the container run with a uid other than 0."""
    assert_that(_container(context).user_id(), is_not(equal_to(0)), "uid inside the container")


# -- limits -------------------------------------------------------------------------------------
@then("the container's memory limit is {limit:ByteSize}")
def step_memory_limit(context: Any, limit: int) -> None:
    """The container engine reports this memory limit for the container."""
    assert_that(_container(context).memory_limit, equal_to(limit), "the container's memory limit")


@then("the container is still running and was not killed for lack of memory")
def step_not_oom_killed(context: Any) -> None:
    """The container runs, and the engine reports that the kernel did not kill it for lack of
    memory."""
    server = _container(context)
    assert_that(server.oom_killed, equal_to(False),
                f"the kernel's OOM killer ended the server; log tail:\n{server.log_tail(40)}")
    assert_that(server.alive(), equal_to(True),
                f"the container stopped; log tail:\n{server.log_tail(40)}")


@then("at least one of them is refused with {status:Status}")
def step_some_refused(context: Any, status: int) -> None:
    """The burst of requests got at least one answer with this status."""
    result = getattr(context, "burst", None)
    assert result is not None, "no burst of requests was sent in this scenario"
    assert_that(result.statuses()[status], greater_than(0),
                f"expected some {status} answers: {result.summary()}")


# -- files inside the container -----------------------------------------------------------------
@given('I note the bytes of the memory file "{name}" inside the container')
def step_note_inside(context: Any, name: str) -> None:
    """Keep the SHA-256 of a memory file as the server inside the container sees it."""
    data = _container(context).read_memory_file(name)
    assert data is not None, f"{name} is not in the container's memory folder"
    notes(context)[f"inside:{name}"] = _sha256(data)


@then('the memory file "{name}" inside the container is byte-for-byte what it was before')
def step_inside_intact(context: Any, name: str) -> None:
    """The file inside the container has the SHA-256 noted earlier (a failed save left it)."""
    data = _container(context).read_memory_file(name)
    assert data is not None, f"{name} disappeared from the container's memory folder"
    assert_that(_sha256(data), equal_to(noted(context, f"inside:{name}")),
                f"{name} changed inside the container")


@then("the loaded memory has the fingerprint the save answered")
def step_loaded_is_saved(context: Any) -> None:
    """The last answer (a load) carries the fingerprint of the last successful save."""
    assert_that(last_json(context)["fingerprint"], equal_to(noted(context, "saved")["fingerprint"]),
                "the loaded memory's fingerprint")


# -- a kill in the middle of saves --------------------------------------------------------------
@when('{clients:Int} clients keep saving the memory as "{name}" while it keeps reading new text')
def step_save_storm(context: Any, clients: int, name: str) -> None:
    """Start ``clients`` threads saving ``name`` over and over and one more changing the memory
    with short ATLAS completions; every state of the memory is saved (and the answer's
    fingerprint kept) before it changes again."""
    atlas = api(context)
    template = atlas.completion_body("", max_tokens=4, atlas=atlas_extension())

    def read_body(generation: int) -> dict[str, Any]:
        return {**template, "prompt": f"{long_prompt(30)} Entry number {generation}."}

    context.storm = SaveStorm(current_server(context).base_url, name, read_body,
                              savers=clients, headers=http(context).headers).start()


@when("the container is killed after {saves:Int} completed saves")
def step_kill_mid_save(context: Any, saves: int) -> None:
    """Once ``saves`` saves answered over at least two memory changes, and the latest change was
    saved: ``docker kill`` (SIGKILL) while the clients go on saving; then stop the clients."""
    storm: SaveStorm = context.storm
    server = _container(context)
    storm.freeze(min_saves=saves)
    try:
        server.kill()
    finally:
        report = storm.finish()
    print(f"save storm: {report.summary()}; exit code {server.last_exit_code}")


@then("the kill cut off saves in flight")
def step_cut_off(context: Any) -> None:
    """At least one save was still waiting for its answer when the container died."""
    report = context.storm.report
    assert_that(report.cut_off, greater_than(0),
                f"the kill should land in the middle of saves: {report.summary()}")


@then("the memory fingerprint is one that a completed save answered")
def step_fingerprint_answered(context: Any) -> None:
    """The default memory's fingerprint (``/v1/atlas/status``) is one of those the completed
    saves of the save storm answered: the file holds a whole, good save."""
    fingerprint = api(context).fingerprint()
    answered = context.storm.report.answered
    leftovers = ""
    if current_server(context).memory_dir is not None:
        folder = current_server(context).memory_dir
        leftovers = f"; files in the memory folder: {sorted(p.name for p in folder.iterdir())}"
    assert_that(fingerprint, is_in(set(answered)),
                f"the memory is not one a completed save wrote{leftovers}")
    newest = "the last one answered" if fingerprint == answered[-1] else "an earlier one"
    print(f"loaded fingerprint {fingerprint[:12]}: {newest}{leftovers}")


# -- GPU ----------------------------------------------------------------------------------------
@then("the reported generation speed is above {speed:Number} tokens per second")
def step_speed_above(context: Any, speed: float) -> None:
    """``performance.tokens_per_second`` in the last status is above ``speed``."""
    measured = last_json(context)["performance"]["tokens_per_second"]
    assert_that(measured, greater_than(speed), "performance.tokens_per_second")


@when("{count:Int} long ATLAS completions are sent through {workers:Int} workers while the GPU "
      "is watched")
def step_burst_watched(context: Any, count: int, workers: int) -> None:
    """A burst of ATLAS completions (~300-token prompt, 64 tokens) while NVML samples every GPU's
    utilisation every 100 ms."""
    atlas = api(context)
    body = atlas.completion_body(long_prompt(300), max_tokens=64, atlas=atlas_extension())
    with UtilisationSampler(0.1) as sampler:
        context.burst = burst(http(context).url(routes.COMPLETIONS), body, count=count,
                              workers=workers, headers=http(context).headers)
    context.gpu_report = sampler.report
    print(f"burst: {context.burst.summary()}; GPU: {sampler.report.summary()}")


@then("the GPU was busy during the load")
def step_gpu_busy(context: Any) -> None:
    """Some utilisation sample taken during the burst was above 0 %."""
    report = context.gpu_report
    assert_that(report.peak_percent, greater_than(0), f"GPU utilisation: {report.summary()}")


# -- what a container reports -------------------------------------------------------------------
@then("the status shows ATLAS enabled with a memory fingerprint")
def step_status_enabled(context: Any) -> None:
    """The ATLAS status, read now, has its documented shape, says ATLAS is enabled and names
    the memory by a SHA-256 fingerprint."""
    status = api(context).status()
    assert_that(registry().errors("atlas_status", status), equal_to([]), f"status {status}")
    assert_that(status["atlas"]["enabled"], equal_to(True), "atlas.enabled")
    fingerprint = str(status["memory"]["fingerprint"])
    assert_that(len(fingerprint) == 64 and all(c in "0123456789abcdef" for c in fingerprint),
                equal_to(True), f"memory.fingerprint {fingerprint!r} is not a SHA-256 in hex")


@when("the image's health check is run inside the container")
def step_run_healthcheck(context: Any) -> None:
    """Run the image's own health check command inside the container; its result is kept."""
    notes(context)["image health check"] = _container(context).run_healthcheck()


@then("the image's health check passed")
def step_healthcheck_passed(context: Any) -> None:
    """The image's health check, run inside the container, ended with success."""
    code, output = noted(context, "image health check")
    assert_that(code, equal_to(0), f"the health check failed: {output[-600:]}")


# -- a full disk inside the container -----------------------------------------------------------
@given('the memory is saved as "{name}" inside the container')
def step_saved_inside(context: Any, name: str) -> None:
    """Save the default memory to ``name`` (it must succeed); what the save answered, the memory
    in use and the file's bytes as the server inside sees them are kept for later Thens."""
    notes(context)["saved"] = expect_ok(api(context).save(name), f'save the memory as "{name}"')
    notes(context)["in use when saved"] = api(context).memory_in_use()
    step_note_inside(context, name)


@then("the save was refused for lack of disk space")
def step_save_refused_full(context: Any) -> None:
    """The scenario's last save was answered 507 in the error envelope, of type
    ``insufficient_storage_error``, with a message that mentions the disk or the space."""
    saves = [e for e in http(context).exchanges if e.path == routes.MEMORY_SAVE]
    assert saves, "no save was sent in this scenario"
    reply = saves[-1]
    assert_that(reply.status, equal_to(507),
                f"the save answered {describe_text(reply.status, reply.text)}")
    body = reply.json()
    assert_that(registry().errors("error", body), equal_to([]), f"not the error envelope: {body}")
    assert_that(body["error"]["type"], equal_to("insufficient_storage_error"), "error.type")
    message = str(body["error"]["message"]).lower()
    assert_that("disk" in message or "space" in message, equal_to(True),
                f"the message {message!r} mentions neither the disk nor the space")


# -- a new container on the same memory folder --------------------------------------------------
@then("the new container started with a memory other than the saved one")
def step_started_other(context: Any) -> None:
    """The memory the new container started with is not the one saved earlier in the scenario
    (so a later load of it proves the file carried it)."""
    at_start = noted(context, "memory at start")
    saved = noted(context, "in use when saved")
    assert_that(at_start.fingerprint, is_not(equal_to(saved.fingerprint)),
                "the new container already had the saved memory before any load")


@then("the new container started with the memory the stopped container had")
def step_started_with_stopped(context: Any) -> None:
    """The fingerprint of the memory the new container started with is the one the stopped
    container's memory had just before the stop."""
    before = noted(context, "memory before stop")
    at_start = noted(context, "memory at start")
    assert_that(at_start.fingerprint, equal_to(before.fingerprint),
                f"the memory did not carry over: {'; '.join(before.differences(at_start))}")


@then("the stopped container exited with code {code:Int}")
def step_previous_exit(context: Any, code: int) -> None:
    """The container stopped before the new one was started ended with this exit code."""
    previous = noted(context, "previous container")
    assert_that(previous.last_exit_code, equal_to(code),
                f"the stopped container's exit code; its log ended with:\n"
                f"{previous.last_stop_log_tail}")
