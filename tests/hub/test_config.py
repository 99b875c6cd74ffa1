import pytest
from celerylab_hub import config
from traitlets.config import Config


def applied(secrets_dir, **env) -> Config:
    c = Config()
    config.apply(c, {"CELERYLAB_SECRETS_DIR": str(secrets_dir), **env})
    return c


def test_native_login_is_the_default(secrets_dir):
    c = applied(secrets_dir)
    assert c.JupyterHub.authenticator_class == "celerylab_hub.auth.RosterAuthenticator"
    assert c.JupyterHub.cookie_secret_file == str(secrets_dir / "cookie_secret")
    assert (
        c.ConfigurableHTTPProxy.auth_token == (secrets_dir / "proxy_auth_token").read_text().strip()
    )


def test_ops_service_has_the_admin_role_and_the_generated_token(secrets_dir):
    c = applied(secrets_dir)
    ops = next(s for s in c.JupyterHub.services if s["name"] == "celerylab-ops")
    assert ops["api_token"] == (secrets_dir / "ops_api_token").read_text().strip()
    admin = next(r for r in c.JupyterHub.load_roles if r["name"] == "admin")
    assert admin["services"] == ["celerylab-ops"]


def test_idle_culler_gets_least_privilege(secrets_dir):
    c = applied(secrets_dir, CELERYLAB_CULL_TIMEOUT="900", CELERYLAB_CULL_EVERY="60")
    culler = next(s for s in c.JupyterHub.services if s["name"] == "idle-culler")
    assert "--timeout=900" in culler["command"] and "--cull-every=60" in culler["command"]
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "idle-culler")
    assert set(role["scopes"]) == {
        "list:users",
        "read:users:activity",
        "read:servers",
        "delete:servers",
    }


def test_the_culler_stops_labs_at_their_maximum_age_busy_or_not(secrets_dir):
    culler = next(s for s in applied(secrets_dir).JupyterHub.services if s["name"] == "idle-culler")
    assert "--max-age=43200" in culler["command"], "12 hours by default"
    c = applied(secrets_dir, CELERYLAB_LAB_MAX_AGE="7200")
    culler = next(s for s in c.JupyterHub.services if s["name"] == "idle-culler")
    assert "--max-age=7200" in culler["command"]


def test_cull_every_zero_turns_culling_off(secrets_dir):
    c = applied(secrets_dir, CELERYLAB_CULL_EVERY="0")
    assert "idle-culler" not in [s["name"] for s in c.JupyterHub.services]
    assert "idle-culler" not in [r["name"] for r in c.JupyterHub.load_roles]


def test_students_reach_the_exchange_with_their_labs_token_and_nothing_more(secrets_dir):
    c = applied(secrets_dir)
    exchange = next(s for s in c.JupyterHub.services if s["name"] == "celerylab-exchange")
    assert exchange["api_token"] == (secrets_dir / "exchange_api_token").read_text().strip()
    user = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert user["scopes"] == ["self", "access:services!service=celerylab-exchange"]
    own = next(r for r in c.JupyterHub.load_roles if r["name"] == "exchange")
    assert own["scopes"] == ["list:groups", "read:groups"], "it only needs group members"
    assert "access:services!service=celerylab-exchange" in c.Spawner.server_token_scopes
    assert c.CeleryLabSpawner.exchange_url.endswith("/services/celerylab-exchange/")


def test_courses_become_services_roles_and_groups(secrets_dir, tmp_path):
    (tmp_path / "c1.yaml").write_text("id: c1\ntitle: C1\ninstructors: [ida]\nroster: c1.csv\n")
    (tmp_path / "c1.csv").write_text("username\namy\n")
    c = applied(secrets_dir, CELERYLAB_COURSES_DIR=str(tmp_path), CELERYLAB_INSTANCE="t")
    (fg,) = [s for s in c.JupyterHub.services if s["name"] == "formgrader-c1"]
    assert fg["url"] == "http://t-course-c1:8888" and fg["timeout"] == 2
    (role,) = [r for r in c.JupyterHub.load_roles if r["name"] == "formgrade-c1"]
    assert role == {
        "name": "formgrade-c1",
        "description": "instructors and graders of C1",
        "scopes": ["access:services!service=formgrader-c1"],
        "groups": ["formgrade-c1"],
    }
    assert c.JupyterHub.load_groups == {
        "nbgrader-c1": {"users": ["amy"]},
        "formgrade-c1": {"users": ["ida"]},
    }


def test_a_bad_course_declaration_stops_the_hub_naming_the_file(secrets_dir, tmp_path):
    (tmp_path / "bad.yaml").write_text("id: Bad Course\ntitle: x\ninstructors: [ida]\n")
    with pytest.raises(SystemExit, match=r"(?s)will not start.*bad.yaml"):
        applied(secrets_dir, CELERYLAB_COURSES_DIR=str(tmp_path))


def test_invalid_setting_stops_the_hub_naming_it(secrets_dir):
    with pytest.raises(SystemExit, match=r"(?s)will not start.*CELERYLAB_LAB_CPU_LIMIT='x'"):
        applied(secrets_dir, CELERYLAB_LAB_CPU_LIMIT="x")


def test_missing_secrets_stop_the_hub_with_the_fix(tmp_path):
    with pytest.raises(SystemExit, match="run `celerylab setup`"):
        applied(tmp_path / "nowhere")


LTI = {
    "CELERYLAB_AUTH": "lti13",
    "CELERYLAB_LTI13_CLIENT_ID": "client-1",
    "CELERYLAB_LTI13_ISSUER": "https://lms.example.edu",
    "CELERYLAB_LTI13_AUTHORIZE_URL": "https://lms.example.edu/auth",
    "CELERYLAB_LTI13_JWKS_URL": "https://lms.example.edu/jwks",
}


def test_lti13_builds_a_working_authenticator(secrets_dir):
    from ltiauthenticator.lti13.auth import LTI13Authenticator

    c = applied(secrets_dir, **LTI)
    assert c.JupyterHub.authenticator_class.endswith("LTI13Authenticator")
    auth = LTI13Authenticator(config=c)
    assert auth.client_id == {"client-1"}
    assert auth.issuer == "https://lms.example.edu"
    assert auth.jwks_endpoint == "https://lms.example.edu/jwks"


def test_lti13_without_its_settings_refuses_to_start(secrets_dir):
    with pytest.raises(SystemExit, match="CELERYLAB_LTI13_ISSUER"):
        applied(secrets_dir, CELERYLAB_AUTH="lti13", CELERYLAB_LTI13_CLIENT_ID="x")


def test_oauth_builds_a_working_authenticator(secrets_dir):
    from oauthenticator.generic import GenericOAuthenticator

    c = applied(
        secrets_dir,
        CELERYLAB_AUTH="oauth",
        CELERYLAB_OAUTH_CLIENT_ID="hub",
        CELERYLAB_OAUTH_CLIENT_SECRET="s3cret",
        CELERYLAB_OAUTH_CALLBACK_URL="https://hub.example.edu/hub/oauth_callback",
        CELERYLAB_OAUTH_AUTHORIZE_URL="https://idp.example.edu/authorize",
        CELERYLAB_OAUTH_TOKEN_URL="https://idp.example.edu/token",
        CELERYLAB_OAUTH_USERDATA_URL="https://idp.example.edu/userinfo",
        CELERYLAB_OAUTH_USERNAME_CLAIM="preferred_username",
    )
    auth = GenericOAuthenticator(config=c)
    assert auth.client_id == "hub"
    assert auth.token_url == "https://idp.example.edu/token"
    assert auth.username_claim == "preferred_username"


def test_every_lab_and_service_gets_its_own_origin_by_default(secrets_dir):
    c = applied(secrets_dir, CELERYLAB_HTTP_PORT="18000")
    assert c.JupyterHub.subdomain_host == "http://celerylab.localhost:18000"
    csp = c.JupyterHub.tornado_settings["headers"]["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "form-action 'self' http://*.celerylab.localhost:18000" in csp
    assert "unsafe-eval" not in csp
    assert c.JupyterHub.tornado_settings["cookie_options"] == {"secure": True}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://lab.example.org", "https://lab.example.org"),
        ("https://lab.example.org:8443/", "https://lab.example.org:8443"),
        ("HTTPS://Lab.Example.org", "https://lab.example.org"),
        ("http://lab.localhost:8000", "http://lab.localhost:8000"),
    ],
)
def test_the_public_url_is_normalised(secrets_dir, url, expected):
    assert applied(secrets_dir, CELERYLAB_PUBLIC_URL=url).JupyterHub.subdomain_host == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "ftp://lab.example.org",
        "lab.example.org",
        "http://lab.example.org",  # plain http only for *.localhost
        "https://lab.example.org/hub",
        "https://user@lab.example.org",
    ],
)
def test_a_public_url_without_room_for_subdomains_stops_the_hub(secrets_dir, url):
    with pytest.raises(SystemExit, match="CELERYLAB_PUBLIC_URL"):
        applied(secrets_dir, CELERYLAB_PUBLIC_URL=url)


def test_students_files_cannot_configure_their_server():
    text = (config.Path(__file__).parents[2] / "jupyterhub_config.py").read_text()
    assert "c.Spawner.disable_user_config = True" in text
    assert "c.JupyterHub.cookie_host_prefix_enabled = True" in text


def test_sessions_service_prestarts_with_the_configured_lead(secrets_dir):
    c = applied(secrets_dir, CELERYLAB_PRESTART_MINUTES="20", CELERYLAB_CULL_TIMEOUT="900")
    service = next(s for s in c.JupyterHub.services if s["name"] == "celerylab-sessions")
    assert "--lead=20" in service["command"] and "--cull-timeout=900" in service["command"]
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "sessions")
    assert role["services"] == ["celerylab-sessions"]
    assert "admin:users" not in role["scopes"] and "servers" in role["scopes"]
