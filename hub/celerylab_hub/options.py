"""Hub-wide celerylab options that are not a trait of JupyterHub, a spawner or an authenticator."""

from traitlets import CaselessStrEnum, Integer, Unicode
from traitlets.config import Configurable


class CeleryLabOptions(Configurable):
    auth = CaselessStrEnum(
        ["native", "lti13", "oauth"],
        default_value="native",
        config=True,
        help="""How people log in.

        native: passwords kept (hashed) by the hub, only for users on the roster, with lockout
        after repeated failures. lti13: launches from an LMS (LTI 1.3). oauth: any OAuth2/OIDC
        provider (GenericOAuthenticator).""",
    )
    secrets_dir = Unicode(
        "/srv/celerylab/secrets",
        config=True,
        help="Directory of the secrets generated at first start (`celerylab setup`).",
    )
    courses_dir = Unicode(
        "/srv/celerylab/courses",
        config=True,
        help="""Folder of course declarations (course/courses in the repository).

        Each course gets its groups, its formgrader service and the role to reach it. A new
        course needs a hub restart; students and assignments only `celerylab courses sync`.""",
    )
    cull_timeout = Integer(
        3600,
        config=True,
        help="Stop labs idle this many seconds. A lab whose Celery worker is busy is not idle.",
    )
    cull_every = Integer(
        300,
        config=True,
        help="Seconds between idle checks (0 turns idle culling off).",
    )
    lab_max_age = Integer(
        12 * 3600,
        config=True,
        help="""Stop every lab this many seconds after it started, busy or not (0: no limit).

        Enforced by the idle culler (`--max-age`) from outside the lab, on the hub's record of
        when the server started, so nothing a student does in the lab (a busy worker, the
        activity file) can keep it running longer. Needs culling on (cull_every > 0).""",
    )
    prestart_minutes = Integer(
        15,
        config=True,
        help="""Start the roster's labs this many minutes before each course session (0: never).

        Sessions are declared in the course's YAML (`sessions:`); pre-started labs are kept from
        the idle culler until the session ends, and those nobody opened are stopped after it
        (celerylab_hub.sessions).""",
    )
    ops_service = Unicode(
        "celerylab-ops",
        config=True,
        help="Hub service owning the ops API token (CELERYLAB_API_TOKEN, admin role).",
    )
