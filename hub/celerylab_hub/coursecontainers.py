"""One container per course: the course's formgrader service and the instructors' nbgrader.

Created by `celerylab courses sync` (in the hub container, the only place with the Docker
socket) from the lab image in course mode (celerylab_lab.course). It keeps the course directory
(gradebook, source, release, submitted, autograded, feedback) on the volume
<instance>-course-<id>; students' labs mount neither. Its jupyterhub-singleuser runs as the hub
service formgrader-<id>, which only the course's formgrade-<id> group may open. A container
whose settings changed is replaced; the volume stays.

Apart from other courses: it runs as a UID of its own (course_uids), and of the exchange volume
it mounts only its own course's folder (<exchange>/<id>, bound from the volume's folder on the
host), so its staff can neither read nor change another course's releases, submissions
(submission_secret.txt included) or feedback. The exchange service alone sees every course: the
start script gives the course's folder to the course's UID with the exchange's group, so the
service files submissions into its inbound and reads its releases and feedback.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import tarfile
from pathlib import Path

import docker
import docker.errors
from jupyterhub.utils import subdomain_hook_idna

from celerylab_hub.courses import Course
from celerylab_hub.secrets import EXCHANGE_UID
from celerylab_hub.spawner import LAB_CAPABILITIES, LAB_HOME, LOG_CONFIG, lab_identity

HUB_API = "http://hub:8081/hub/api"
SEED = "/srv/celerylab/source-seed"
SPEC_LABEL = "org.celerylab.course-spec"
EXCHANGE_DIR = "/srv/celerylab/exchange"
#: Course containers' UIDs: above the exchange's (2000), below students' (uid_base, 10000).
COURSE_UIDS = range(3000, 8000)


def course_uids(course_ids) -> dict[str, int]:
    """A UID per course, from its id: stable, and distinct among the courses given (a course
    whose slot is taken gets the next free one; the start script hands its files over if its
    UID ever changes)."""
    uids: dict[str, int] = {}
    taken: set[int] = set()
    for course_id in sorted(course_ids):
        slot = int(hashlib.sha256(course_id.encode()).hexdigest()[:8], 16) % len(COURSE_UIDS)
        while COURSE_UIDS[slot] in taken:
            slot = (slot + 1) % len(COURSE_UIDS)
        uids[course_id] = COURSE_UIDS[slot]
        taken.add(COURSE_UIDS[slot])
    return uids


def service_origin(public_url: str, service: str) -> str:
    """The origin the hub gives a service under subdomain_host (JupyterHub's default hook)."""
    scheme, _, host = public_url.partition("://")
    hostname, colon, port = host.partition(":")
    return f"{scheme}://{subdomain_hook_idna(service, hostname, 'service')}{colon}{port}"


def environment(
    course: Course,
    token: str,
    metrics_token_sha256: str = "",
    grading_broker: str = "",
    grading_key: str = "",
    public_url: str = "",
    uid: int = EXCHANGE_UID,
) -> dict[str, str]:
    service = course.formgrader_service
    prefix = f"/services/{service}/"
    origin = service_origin(public_url, service) if public_url else ""
    scopes = json.dumps([f"access:services!service={service}"])
    # Derived from the service token: stable across restarts, different for every course.
    redis_password = hmac.new(token.encode(), b"redis", hashlib.sha256).hexdigest()[:32]
    return {
        **lab_identity(f"grader-{course.id}", uid, redis_password),
        # The start script gives this course's part of the exchange to the course (start.sh).
        "CELERYLAB_EXCHANGE_COURSE": course.id,
        "CELERYLAB_COURSE": json.dumps(
            {
                "id": course.id,
                "title": course.title,
                "students": list(course.students),
                # Names and e-mail from the roster: the gradebook's export carries them.
                "profiles": {name: dict(fields) for name, fields in course.profiles},
                "assignments": [
                    {"id": a.id, "due": a.due.isoformat() if a.due else None}
                    for a in course.assignments
                ],
                "late_policy": vars(course.late_policy),
            }
        ),
        # jupyterhub-singleuser as the hub service formgrader-<course>
        "JUPYTERHUB_SERVICE_NAME": service,
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_API_URL": HUB_API,
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_SERVICE_PREFIX": prefix,
        "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888",
        "JUPYTERHUB_CLIENT_ID": f"service-{service}",
        # On its own origin (subdomain_host): logins go to the hub's origin, and the cookies
        # are __Host- ones that no other subdomain can set (config.py, jupyterhub_config.py).
        "JUPYTERHUB_HOST": public_url,
        "JUPYTERHUB_PUBLIC_HUB_URL": f"{public_url}/hub/" if public_url else "",
        "JUPYTERHUB_PUBLIC_URL": f"{origin}{prefix}" if origin else "",
        "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "1" if public_url else "0",
        "JUPYTERHUB_COOKIE_OPTIONS": json.dumps({"secure": True}) if public_url else "{}",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{origin}{prefix}oauth_callback",
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": scopes,
        "JUPYTERHUB_OAUTH_SCOPES": scopes,
        "JUPYTERHUB_DEFAULT_URL": "/formgrader",  # opens in its own tab: no iframe, strict CSP kept
        # The course's metrics (submissions, gradebook) for Prometheus's scrape token only.
        "CELERYLAB_METRICS_TOKEN_SHA256": metrics_token_sha256,
        # Autograde sends each submission to the grading fleet (celerylab_hub.grading).
        "CELERYLAB_GRADING_BROKER": grading_broker,
        # ...sealed with this course's key: the broker is shared by every course.
        "CELERYLAB_GRADING_KEY": grading_key,
    }


def _seed_archive(source_dir: Path, assignments: list[str], uid: int) -> bytes:
    """The platform's source/<assignment> folders of this course at SEED, owned by the course
    (extracted at / by put_archive, so the parent folders come first)."""

    def own(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = uid
        return info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        parts = Path(SEED.lstrip("/")).parts
        for depth in range(1, len(parts) + 1):
            folder = tarfile.TarInfo("/".join(parts[:depth]))
            folder.type, folder.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(own(folder))
        for name in assignments:
            if (source_dir / name).is_dir():
                tar.add(source_dir / name, arcname=f"{SEED.lstrip('/')}/{name}", filter=own)
    return buffer.getvalue()


def ensure(
    client: docker.DockerClient,
    course: Course,
    *,
    instance: str,
    image: str,
    token: str,
    source_dir: Path,
    metrics_token_sha256: str = "",
    grading_broker: str = "",
    grading_key: str = "",
    public_url: str = "",
    uid: int = EXCHANGE_UID,
) -> str:
    """Create, replace or start the course's container; return what was done."""
    name = f"{instance}-course-{course.id}"
    env = environment(
        course, token, metrics_token_sha256, grading_broker, grading_key, public_url, uid
    )
    # Only this course's folder of the exchange volume (Docker makes it if missing). Bound from
    # the volume's folder on the host: this Docker has no volume subpaths (API 1.45).
    exchange = client.volumes.get(f"{instance}-exchange").attrs["Mountpoint"]
    volumes = {
        f"{instance}-course-{course.id}": {"bind": LAB_HOME, "mode": "rw"},
        f"{exchange}/{course.id}": {"bind": f"{EXCHANGE_DIR}/{course.id}", "mode": "rw"},
    }
    spec = hashlib.sha256(json.dumps([image, env, volumes], sort_keys=True).encode()).hexdigest()
    try:
        existing = client.containers.get(name)
    except docker.errors.NotFound:
        existing = None
    if existing is not None:
        if existing.labels.get(SPEC_LABEL) == spec:
            if existing.status != "running":
                existing.start()
                return "started"
            return "unchanged"
        existing.remove(force=True)
    container = client.containers.create(
        image,
        name=name,
        hostname=name,
        environment=env,
        volumes=volumes,
        network=instance,
        labels={SPEC_LABEL: spec, "org.celerylab.course": course.id},
        cap_drop=["ALL"],
        cap_add=LAB_CAPABILITIES,
        security_opt=["no-new-privileges"],
        pids_limit=1024,
        mem_limit="2g",
        log_config=LOG_CONFIG,
        restart_policy={"Name": "unless-stopped"},
        command=["jupyterhub-singleuser"],
    )
    seed = _seed_archive(source_dir, [a.id for a in course.assignments], uid)
    container.put_archive("/", seed)
    container.start()
    return "replaced" if existing is not None else "created"
