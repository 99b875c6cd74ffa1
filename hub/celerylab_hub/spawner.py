"""CeleryLabSpawner: one lab container per student, with their own Redis, worker and Flower.

A DockerSpawner whose defaults are the celerylab lab: the lab image, a per-student home volume,
a UID derived from the hub's user id (nbgrader's exchange relies on distinct UIDs), a fresh
Redis password per start, resource limits, and a container that may drop to that UID but
can do nothing else as root.
"""

import asyncio
import json
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

import docker.errors
from dockerspawner import DockerSpawner
from traitlets import Dict, Integer, List, Unicode, default

from celerylab_hub.secrets import scrape_token_sha256
from celerylab_hub.startqueue import StartQueue

LAB_HOME = "/home/student"
LAB_PORT = 8888

# The start script (as root) only needs to name the student's account, hand the home volume to
# it and drop privileges; everything after runs as the student with no capabilities at all.
LAB_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"]
#: ...and a student lab's start script also fences its network in (celerylab_lab.firewall).
LAB_FENCE_CAPABILITIES = ["NET_ADMIN"]
#: What others may open in a lab: Jupyter (the proxy, the hub) and its metrics (Prometheus).
LAB_SERVE_PORTS = [LAB_PORT, 9100]
#: Every container the platform starts keeps at most this much log (Docker's json-file driver).
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "3"}}
#: CPU-seconds a booting lab must use per stall_timeout to count as making progress. Booting
#: takes ~2 s of CPU; an idle lab (Redis, worker heartbeats) uses well under this in 30 s, while
#: even forty labs sharing two cores each get over a second of CPU in that time.
PROGRESS_CPU_SECONDS = 0.25


class Watchdog:
    """Tells a lab that is slow (its work counter still advances) from one that is stuck."""

    def __init__(self, patience: float, step: float, now: float):
        self.patience = patience
        self.step = step
        self.since = now
        self.base: float | None = None

    def stalled(self, work: float, now: float) -> bool:
        """True once `work` has grown by less than `step` for more than `patience` seconds."""
        if self.base is None or work - self.base >= self.step:
            self.base, self.since = work, now
            return False
        return now - self.since > self.patience


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
    formgraders = Dict(
        config=True,
        help="""Each instructor's and grader's formgraders by user name, as nbgrader's Course List
        shows them (celerylab_hub.services.staff_formgraders): their lab lists them at
        /formgraders (celerylab_lab.course_links). A user with none gets an empty list.""",
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
    peer_ports = List(
        Integer(),
        [8000, 8765],
        config=True,
        help="""TCP ports a lab may open on its own networks: the proxy (which also carries the
        hub's API, hub_connect_url) and the exchange.

        Everything else there (the hub's own ports, the proxy's API, Prometheus, other labs) is
        closed to the lab by its network fence (celerylab_lab.firewall).""",
    )
    egress = Unicode(
        "",
        config=True,
        help="""Destinations a lab may reach beyond the platform: "host-or-cidr[:port]", separated
        by commas, e.g. "pypi.org:443,files.pythonhosted.org:443". Empty (the default): none.

        Names are resolved when the lab starts. The link-local range (169.254.0.0/16, where
        clouds serve instance metadata) is refused. With any egress the lab also joins
        egress_network, which gives it a route out.""",
    )
    egress_network = Unicode(
        config=True,
        help="""Docker network that gives labs a route out when egress is set; created if missing,
        with inter-container traffic off (labs cannot reach each other on it).

        Default: <instance>-egress.""",
    )

    @default("egress_network")
    def _default_egress_network(self):
        return f"{self.instance}-egress"

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

    start_slots = Integer(
        config=True,
        help="""Labs that may boot at once; later starts wait their turn, in order.

        Default: two per CPU of the host. A lab boots on ~1.5 CPU-seconds, but part of a start
        is Docker's work and waiting, not the lab's: with one per core a cold class of 40 on
        2 cores was in after 66.7 s, with two per core after 61.5 s (78.7 against 110.6 s on a
        busy host); forty at once flood the host. The spawn page tells waiting students how
        many labs start before theirs.""",
    )

    @default("start_slots")
    def _default_start_slots(self):
        return 2 * len(os.sched_getaffinity(0))

    stall_timeout = Integer(
        30,
        config=True,
        help="""Seconds a booting lab may go without progress (CPU time advancing) before it fails.

        A lab that is merely slow on a busy host is never given up on; one that stops, or stops
        making progress, fails with the last lines of its log. start_timeout still bounds the
        whole start, queue included.""",
    )

    _lab_executor = None
    _start_queue = None
    _ticket = None
    _booting = False

    @property
    def start_queue(self) -> StartQueue:
        """One queue for every lab start in this hub."""
        cls = CeleryLabSpawner
        if cls._start_queue is None:
            cls._start_queue = StartQueue(self.start_slots)
        return cls._start_queue

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
        # A backstop only, queue included: a class of 200 on 2 cores waits ~4 min for its last
        # lab. Slow labs are told from stuck ones by stall_timeout, not by this.
        return 900

    @default("http_timeout")
    def _default_http_timeout(self):
        return 30  # start() returns once the lab listens; this is the hub's check after that

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
            "cap_add": LAB_CAPABILITIES + LAB_FENCE_CAPABILITIES,
            "security_opt": ["no-new-privileges"],
            "log_config": LOG_CONFIG,
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
            CELERYLAB_FORMGRADERS=json.dumps(self.formgraders.get(self.user.name, [])),
            CELERYLAB_METRICS_TOKEN_SHA256=(
                scrape_token_sha256(self.metrics_token_root, "lab", self.user.name)
                if self.metrics_token_root
                else ""
            ),
            # The lab's network fence (celerylab_lab.firewall); the start script refuses to
            # start the lab without it.
            CELERYLAB_LAB_FIREWALL="1",
            CELERYLAB_LAB_PEER_PORTS=" ".join(map(str, self.peer_ports)),
            CELERYLAB_LAB_SERVE_PORTS=" ".join(map(str, LAB_SERVE_PORTS)),
            CELERYLAB_LAB_EGRESS=self.egress,
            CELERYLAB_LAB_HOST_ADDRESSES=" ".join(self._host_addresses),
        )
        return env

    _host_addresses: tuple[str, ...] = ()

    async def _docker_gateways(self) -> tuple[str, ...]:
        """The gateway of every Docker network: each is an address of the host (of its bridge),
        where the host's own services answer a container. The lab's fence drops them all."""
        networks = await self.docker("networks")
        gateways = {
            config["Gateway"].split("/")[0]
            for net in networks
            for config in (net.get("IPAM") or {}).get("Config") or []
            if config.get("Gateway")
        }
        return tuple(sorted(g for g in gateways if ":" not in g))

    async def create_object(self):
        self._host_addresses = await self._docker_gateways()
        obj = await super().create_object()
        if self.egress:
            await self._ensure_egress_network()
            await self.docker("connect_container_to_network", obj["Id"], self.egress_network)
        return obj

    async def _ensure_egress_network(self) -> None:
        """Create the egress network on first use: a plain bridge with inter-container traffic
        off, so labs that share it still cannot reach each other."""
        try:
            await self.docker("inspect_network", self.egress_network)
        except docker.errors.NotFound:
            await self.docker(
                "create_network",
                self.egress_network,
                driver="bridge",
                options={"com.docker.network.bridge.enable_icc": "false"},
                labels={"org.celerylab.instance": self.instance},
                check_duplicate=True,
            )

    async def start(self):
        queue = self.start_queue
        self._ticket = queue.ticket()
        try:
            async with queue.admitted(self._ticket):
                self._booting = True
                try:
                    ip, port = await super().start()
                except docker.errors.ImageNotFound as e:
                    raise LabStartError(
                        f"The lab image {self.image!r} is not on this host. "
                        "An administrator must build it (scripts/up.sh does)."
                    ) from e
                await self._wait_until_listening(ip, port)
        finally:
            self._ticket, self._booting = None, False
        return ip, port

    async def progress(self):
        """The spawn page's messages: the place in the start queue, then the lab booting."""
        last = None
        while True:
            place = self.start_queue.place(self._ticket) if self._ticket else None
            if place is not None:
                event = {"progress": 10, "message": place.message()}
            elif self._booting:
                event = {"progress": 50, "message": "Your lab is starting (Jupyter, Redis, Celery)"}
            else:
                event = None
            if event and event != last:
                yield event
                last = event
            await asyncio.sleep(1)

    async def _wait_until_listening(self, ip: str, port: int) -> None:
        """Return once the lab accepts connections; fail fast, with its log, if it exits or
        stops making progress. A lab that is only slow (a busy host) is waited for."""
        loop = asyncio.get_running_loop()
        watchdog = Watchdog(self.stall_timeout, PROGRESS_CPU_SECONDS, loop.time())
        next_check = loop.time() + 1
        while True:
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), 0.5)
                writer.close()
                return
            except (OSError, TimeoutError):
                pass
            if loop.time() >= next_check:  # the Docker API is shared by all spawns: ask rarely
                await self._fail_if_exited()
                if watchdog.stalled(await self._work_done(), loop.time()):
                    raise LabStartError(
                        f"Your lab stopped making progress while starting (nothing happened in "
                        f"it for {self.stall_timeout} seconds). "
                        f"Last lines of its log:\n{await self._log_tail()}"
                    )
                next_check = loop.time() + 1
            await asyncio.sleep(0.1)

    async def _work_done(self) -> float:
        """The lab's CPU-seconds so far: it grows while the lab boots, however busy the host."""
        stats = await self.docker("stats", self.container_id, stream=False, one_shot=True)
        return stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9

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
