"""CeleryLabSpawner: one lab container per student, with their own Redis, worker and Flower.

A DockerSpawner whose defaults are the celerylab lab: the lab image, a per-student home volume,
a UID derived from the hub's user id (nbgrader's exchange relies on distinct UIDs), a fresh
Redis password per start, resource limits, and a container that may drop to that UID but
can do nothing else as root.
"""

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

import docker.errors
from dockerspawner import DockerSpawner
from traitlets import Integer, Unicode, default

from celerylab_hub.secrets import scrape_token_sha256

LAB_HOME = "/home/student"
LAB_PORT = 8888

# The start script (as root) only needs to name the student's account, hand the home volume to
# it and drop privileges; everything after runs as the student with no capabilities at all.
LAB_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"]


def lab_identity(name: str, uid: int, redis_password: str) -> dict[str, str]:
    """What the lab image's start script needs: who it runs as, and its private Redis.

    The Celery URLs are in the container's own environment, so kernels, terminals and
    `docker exec` all agree."""
    redis = f"redis://:{redis_password}@127.0.0.1:6379"
    return {
        "NB_USER": name,
        "CELERYLAB_UID": str(uid),
        "CELERYLAB_REDIS_PASSWORD": redis_password,
        "CELERY_BROKER_URL": f"{redis}/0",
        "CELERY_RESULT_BACKEND": f"{redis}/1",
    }


class LabStartError(RuntimeError):
    """A lab could not start; the message is shown to the student on the spawn page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.jupyterhub_message = (
            message  # what JupyterHub shows instead of "Internal Server Error"
        )


class CeleryLabSpawner(DockerSpawner):
    instance = Unicode(
        "celerylab",
        config=True,
        help="""Name of this celerylab installation (the compose project name).

        Prefixes lab container and home volume names, so two installations (say, the tests and
        a running course) on one Docker host never touch each other's labs.""",
    )
    uid_base = Integer(
        10000,
        config=True,
        help="""A student's UID in their lab is uid_base + their hub user id.

        Distinct UIDs keep students' files apart on shared volumes (nbgrader's exchange).""",
    )
    pids_limit = Integer(
        512,
        config=True,
        help="Most processes (and threads) a lab may run; stops fork bombs from hurting others.",
    )
    worker_pool = Unicode(
        "prefork",
        config=True,
        help="Default Celery pool of the student's worker (prefork, threads or solo).",
    )
    worker_autoscale = Unicode(
        "4,0",
        config=True,
        help="""Default prefork autoscaling of the student's worker: "max,min", or ''.

        With min 0 an idle worker has no child process (a smaller idle lab); the first task
        forks one in ~0.15 s, load grows it to max, and a minute without tasks shrinks it back.
        Prefork semantics (time limits, process isolation) stay what the course teaches.""",
    )
    worker_concurrency = Integer(
        1,
        config=True,
        help="Default concurrency of the student's worker when worker_autoscale is ''.",
    )
    redis_maxmemory = Unicode(
        "64mb",
        config=True,
        help="maxmemory of the student's private Redis (it refuses writes beyond this).",
    )
    activity_interval = Integer(
        300,
        config=True,
        help="""Seconds between a lab's activity reports to the hub (JUPYTERHUB_ACTIVITY_INTERVAL).

        A busy Celery worker is reported as activity, so the idle culler spares such labs.""",
    )
    exchange_url = Unicode(
        "",
        config=True,
        help="URL of the exchange service as labs reach it (students' nbgrader fetch and submit).",
    )
    metrics_token_root = Unicode(
        "",
        config=True,
        help="""Prometheus's root scrape token, from which each lab's own token is derived.

        The lab gets only the SHA-256 of its own token (CELERYLAB_METRICS_TOKEN_SHA256), and
        Prometheus presents that token to that lab alone (the discovery service hands it out),
        so a student who captures what their lab is sent can open their own metrics and nothing
        else. Set from the secrets by celerylab_hub.config; empty turns the endpoint off.""",
    )
    home_volume = Unicode(
        config=True,
        help="""Name template of the student's persistent home volume, mounted at /home/student.

        Default: <instance>-home-{username}.""",
    )

    @default("home_volume")
    def _default_home_volume(self):
        return f"{self.instance}-home-{{username}}"

    docker_threads = Integer(
        8,
        config=True,
        help="""Docker API calls that may run at once for all spawns together.

        DockerSpawner uses one; at the start of a class, forty labs starting together would
        queue behind each other's container creation.""",
    )

    _lab_executor = None

    @property
    def executor(self):
        cls = type(self)
        if cls._lab_executor is None:
            cls._lab_executor = ThreadPoolExecutor(self.docker_threads)
        return cls._lab_executor

    @default("image")
    def _default_image(self):
        return "celerylab/lab:latest"

    @default("cmd")
    def _default_cmd(self):
        # Explicit, so a lab image without a CMD (or with another one) still starts Jupyter.
        return ["jupyterhub-singleuser"]

    @default("pull_policy")
    def _default_pull_policy(self):
        # The lab image is built on the host (make images); a registry pull would only fail late.
        return "never"

    @default("name_template")
    def _default_name_template(self):
        return f"{self.instance}-lab-{{username}}"

    @default("remove")
    def _default_remove(self):
        return True  # the home volume is what persists; the container is disposable

    @default("use_internal_ip")
    def _default_use_internal_ip(self):
        return True

    @default("mem_limit")
    def _default_mem_limit(self):
        return "1G"

    @default("cpu_limit")
    def _default_cpu_limit(self):
        return 1.0

    @default("default_url")
    def _default_default_url(self):
        return "/lab"

    @default("start_timeout")
    def _default_start_timeout(self):
        return 60

    @default("http_timeout")
    def _default_http_timeout(self):
        return 30  # a lab answers in ~2 s; 30 leaves room for a class starting all at once

    @default("volumes")
    def _default_volumes(self):
        return {self.home_volume: LAB_HOME}

    @default("extra_host_config")
    def _default_extra_host_config(self):
        return {
            # Keep a crashed lab's container (and log) until the next start, for diagnosis;
            # a normal stop still removes it (remove=True).
            "auto_remove": False,
            "pids_limit": self.pids_limit,
            "cap_drop": ["ALL"],
            "cap_add": LAB_CAPABILITIES,
            "security_opt": ["no-new-privileges"],
        }

    @property
    def lab_uid(self) -> int:
        return self.uid_base + self.user.id

    def get_env(self):
        env = super().get_env()
        env.update(lab_identity(self.user.name, self.lab_uid, secrets.token_urlsafe(24)))
        env.update(
            CELERYLAB_REDIS_MAXMEMORY=self.redis_maxmemory,
            CELERYLAB_WORKER_POOL=self.worker_pool,
            CELERYLAB_WORKER_CONCURRENCY=str(self.worker_concurrency),
            CELERYLAB_WORKER_AUTOSCALE=self.worker_autoscale,
            JUPYTERHUB_ACTIVITY_INTERVAL=str(self.activity_interval),
            CELERYLAB_EXCHANGE_URL=self.exchange_url,
            CELERYLAB_METRICS_TOKEN_SHA256=(
                scrape_token_sha256(self.metrics_token_root, "lab", self.user.name)
                if self.metrics_token_root
                else ""
            ),
        )
        return env

    async def start(self):
        try:
            ip, port = await super().start()
        except docker.errors.ImageNotFound as e:
            raise LabStartError(
                f"The lab image {self.image!r} is not on this host. "
                "An administrator must build it (scripts/up.sh does)."
            ) from e
        await self._wait_until_listening(ip, port)
        return ip, port

    async def _wait_until_listening(self, ip: str, port: int) -> None:
        """Return once the lab accepts connections; fail fast, with its log, if it exits.

        JupyterHub would otherwise wait out http_timeout before saying anything.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.http_timeout
        next_check = loop.time() + 1
        while loop.time() < deadline:
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), 0.5)
                writer.close()
                return
            except (OSError, TimeoutError):
                pass
            if loop.time() >= next_check:  # the Docker API is shared by all spawns: ask rarely
                await self._fail_if_exited()
                next_check = loop.time() + 1
            await asyncio.sleep(0.1)
        raise LabStartError(
            f"Your lab did not answer within {self.http_timeout} seconds. "
            f"Last lines of its log:\n{await self._log_tail()}"
        )

    async def _fail_if_exited(self) -> None:
        try:
            info = await self.docker("inspect_container", self.container_id)
        except docker.errors.NotFound:
            raise LabStartError("Your lab's container disappeared while starting.") from None
        state = info["State"]
        if not state["Running"]:
            raise LabStartError(
                f"Your lab stopped while starting (exit code {state['ExitCode']}). "
                f"Last lines of its log:\n{await self._log_tail()}"
            )

    async def _log_tail(self, lines: int = 15) -> str:
        logs = await self.docker("logs", self.container_id, tail=lines)
        return logs.decode(errors="replace").strip()
