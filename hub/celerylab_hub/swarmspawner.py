"""CeleryLabSwarmSpawner: each student's lab as a Docker Swarm service on a lab node.

The same lab as CeleryLabSpawner (image, identity and UID, limits, environment, readiness
check), made by dockerspawner's SwarmSpawner as a one-task service instead of a container, so
labs spread over the swarm's lab nodes (CELERYLAB_SPAWNER=swarm; docs/deploy.md, "Scale-out").
What differs from a container, and why:

- placement: only nodes labelled celerylab.lab=true (the deployment labels lab nodes);
- endpoint mode dnsrr: the service name resolves to the lab's own address, as a container name
  does; the default virtual IP (IPVS) drops websockets idle for 15 minutes;
- restart policy none: a lab that exits is reported to the hub as stopped (and its reason shown
  on the spawn page) instead of being restarted by the swarm behind the hub's back;
- the home is a named volume per student on the node that runs the lab; with several lab nodes
  it must live on shared storage (volume_driver / volume_driver_options, e.g. NFS);
- no-new-privileges is asked for in the service's Privileges (Docker 27, API 1.46, applies it;
  older engines ignore the field), and the lab's start script drops to the student with
  `setpriv --no-new-privs` either way;
- log rotation is the lab node's daemon default (the deployment's celerylab_docker role sets
  json-file max-size); a service's own log driver options would need each node's support;
- no egress: the labs' overlay network is internal, and CELERYLAB_LAB_EGRESS is refused here.
"""

import asyncio

from docker.types import DriverConfig, Mount, RestartPolicy
from dockerspawner import SwarmSpawner
from traitlets import Integer, List, Unicode, default

from celerylab_hub.spawner import (
    LAB_CAPABILITIES,
    LAB_FENCE_CAPABILITIES,
    PROGRESS_CPU_SECONDS,
    CeleryLabSpawner,
    LabStartError,
)

#: Task states after which a task never runs again (docker/swarmkit's TaskState).
TASK_ENDED = {"complete", "shutdown", "failed", "rejected", "remove", "orphaned"}


class CeleryLabSwarmSpawner(CeleryLabSpawner, SwarmSpawner):
    lab_constraints = List(
        Unicode(),
        ["node.labels.celerylab.lab==true"],
        config=True,
        help="""Swarm placement constraints of a lab service.

        The deployment (deploy/roles/celerylab_swarm) labels the lab nodes celerylab.lab=true,
        and the manager too when the swarm has no lab nodes.""",
    )
    placement_timeout = Integer(
        20,
        config=True,
        help="""Seconds a lab may wait for a node that can run it before its start fails.

        The swarm keeps such a task pending (no node matches the constraints, or none has the
        resources); the spawn page then shows the scheduler's reason instead of a timeout.""",
    )

    @default("pull_policy")
    def _default_pull_policy(self):
        # Each node has its own images (built or loaded by the deployment); the hub's node may
        # have none of the lab nodes' images and must not pull for them.
        return "skip"

    @default("extra_endpoint_spec")
    def _default_extra_endpoint_spec(self):
        return {"mode": "dnsrr"}

    @default("extra_placement_spec")
    def _default_extra_placement_spec(self):
        return {"constraints": list(self.lab_constraints)}

    @default("extra_task_spec")
    def _default_extra_task_spec(self):
        return {"restart_policy": RestartPolicy(condition="none")}

    @default("extra_container_spec")
    def _default_extra_container_spec(self):
        return {"cap_drop": ["ALL"], "cap_add": LAB_CAPABILITIES + LAB_FENCE_CAPABILITIES}

    async def create_object(self):
        if self.egress:
            raise LabStartError(
                "CELERYLAB_LAB_EGRESS is not available for swarm labs (their overlay network is "
                "internal); an administrator must unset it."
            )
        return await SwarmSpawner.create_object(self)

    @property
    def mounts(self):
        """Named volumes as volume mounts (SwarmSpawner makes every mount a bind mount).

        Driver options are formatted like volume names ({username}), so an NFS-backed volume
        can point at each student's own export."""
        mounts = []
        for source, vol in self.volume_binds.items():
            is_path = source.startswith("/")
            driver = None
            if self.volume_driver and not is_path:
                options = {
                    k: self.format_volume_name(v, self)
                    for k, v in self.volume_driver_options.items()
                }
                driver = DriverConfig(self.volume_driver, options or None)
            mounts.append(
                Mount(
                    target=vol["bind"],
                    source=source,
                    type="bind" if is_path else "volume",
                    read_only=vol["mode"] == "ro",
                    driver_config=driver,
                )
            )
        return mounts

    def _docker(self, method, *args, **kwargs):
        if method == "create_service":
            # docker-py's Resources has no pids field; the API has it (Limits.Pids, API 1.41).
            resources = kwargs["task_template"].setdefault("Resources", {})
            resources.setdefault("Limits", {})["Pids"] = self.pids_limit
            # ...nor a NoNewPrivileges field (API 1.46; older engines ignore it).
            spec = kwargs["task_template"]["ContainerSpec"]
            spec.setdefault("Privileges", {})["NoNewPrivileges"] = True
        return super()._docker(method, *args, **kwargs)

    async def start_object(self):
        """Wait until the lab's task runs; fail with the swarm's reason if it cannot."""
        loop = asyncio.get_running_loop()
        unplaced_since = None
        while True:
            task = await self.get_task()
            if task is None:
                raise LabStartError("Your lab's service disappeared while starting.")
            status = task["Status"]
            state = status["State"]
            if state == "running":
                return
            if state in TASK_ENDED:
                raise LabStartError(await self._task_failure(task))
            if state == "pending" and status.get("Err"):
                unplaced_since = unplaced_since or loop.time()
                if loop.time() - unplaced_since > self.placement_timeout:
                    raise LabStartError(
                        "No lab node can run your lab right now "
                        f"(constraints {', '.join(self.lab_constraints)}): {status['Err']}"
                    )
            await asyncio.sleep(0.5)

    async def _fail_if_exited(self) -> None:
        task = await self.get_task()
        if task is None:
            raise LabStartError("Your lab's service disappeared while starting.")
        if task["Status"]["State"] in TASK_ENDED:
            raise LabStartError(await self._task_failure(task))

    _log_seen = ""
    _log_changes = 0

    async def _work_done(self) -> float:
        """Progress on a lab node: its log keeps moving (its CPU time is not visible from here).

        Counts log changes in units of the watchdog's step, so one new line is progress."""
        tail = await self._log_tail(3)
        if tail != self._log_seen:
            self._log_seen = tail
            self._log_changes += 1
        return self._log_changes * PROGRESS_CPU_SECONDS

    async def _task_failure(self, task: dict) -> str:
        status = task["Status"]
        node = await self._node_name(task.get("NodeID"))
        where = f" on node {node}" if node else ""
        exit_code = status.get("ContainerStatus", {}).get("ExitCode")
        if status.get("ContainerStatus", {}).get("ContainerID") and exit_code is not None:
            return (
                f"Your lab stopped while starting{where} (exit code {exit_code}). "
                f"Last lines of its log:\n{await self._log_tail()}"
            )
        reason = status.get("Err") or status.get("Message") or status["State"]
        message = f"Your lab could not start{where}: {reason}"
        if "No such image" in reason:
            message += (
                f". The lab image {self.image!r} is not on that node: an administrator must "
                "build or load it on every lab node (the deployment's site.yml does)."
            )
        return message

    async def _node_name(self, node_id: str | None) -> str:
        if not node_id:
            return ""
        try:
            node = await self.docker("inspect_node", node_id)
        except Exception:  # a name for a message only: never hide the real failure
            return node_id[:12]
        return node["Description"]["Hostname"]

    async def _log_tail(self, lines: int = 15) -> str:
        def read():
            stream = self.client.service_logs(self.service_id, stdout=True, stderr=True, tail=lines)
            return b"".join(stream)

        logs = await asyncio.wrap_future(self.executor.submit(read))
        return logs.decode(errors="replace").strip()
