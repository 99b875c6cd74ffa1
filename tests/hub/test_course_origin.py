"""A course's formgrader runs on its own origin, logs people in at the hub's, and uses the
__Host- cookies the hub uses."""

import json

from celerylab_hub import config, coursecontainers
from celerylab_hub.courses import load
from traitlets.config import Config


def test_the_course_service_has_its_own_origin_and_logs_in_at_the_hubs(tmp_path):
    declaration = tmp_path / "c101.yaml"
    (tmp_path / "c101.csv").write_text("username\ncara\n")
    declaration.write_text("id: c101\ntitle: Celery 101\ninstructors: [ida]\nroster: c101.csv\n")
    course = load(declaration)
    env = coursecontainers.environment(course, "token", public_url="https://lab.example.org:8443")
    origin = "https://formgrader-c101--service.lab.example.org:8443"
    assert env["JUPYTERHUB_HOST"] == "https://lab.example.org:8443"
    assert env["JUPYTERHUB_PUBLIC_URL"] == f"{origin}/services/formgrader-c101/"
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == (
        f"{origin}/services/formgrader-c101/oauth_callback"
    )
    assert env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] == "1"
    assert env["JUPYTERHUB_COOKIE_OPTIONS"] == '{"secure": true}'  # __Host- needs Secure


def test_formgraders_file_links_reach_its_course_container_on_its_own_origin_only(
    secrets_dir, tmp_path
):
    for cid, title, staff in (("c1", "Celery One", "ida"), ("c2", "Celery Two", "ivo")):
        (tmp_path / f"{cid}.yaml").write_text(
            f"id: {cid}\ntitle: {title}\ninstructors: [{staff}]\nroster: {cid}.csv\n"
        )
        (tmp_path / f"{cid}.csv").write_text("username\namy\n")
    c = Config()
    config.apply(
        c,
        {
            "CELERYLAB_SECRETS_DIR": str(secrets_dir),
            "CELERYLAB_COURSES_DIR": str(tmp_path),
            "CELERYLAB_INSTANCE": "t",
            "CELERYLAB_PUBLIC_URL": "https://lab.example.org:8443",
        },
    )
    # formgrader's linkTo: /tree/, /notebooks/, /edit/ at the root of the page's origin; the
    # proxy matches hosts without their port. Nothing on the hub's or a student's origin.
    assert c.Proxy.extra_routes == {
        f"formgrader-{cid}--service.lab.example.org/{link}/": f"http://t-course-{cid}:8888"
        for cid in ("c1", "c2")
        for link in ("tree", "notebooks", "edit")
    }
    # nbgrader's Course List in each instructor's own lab: their course, by title, and its
    # formgrader's full address; a student's lists none.
    assert c.CeleryLabSpawner.formgraders == {
        "ida": [
            {
                "course_id": "Celery One",
                "url": "https://formgrader-c1--service.lab.example.org:8443"
                "/services/formgrader-c1/formgrader",
                "kind": "formgrader",
            }
        ],
        "ivo": [
            {
                "course_id": "Celery Two",
                "url": "https://formgrader-c2--service.lab.example.org:8443"
                "/services/formgrader-c2/formgrader",
                "kind": "formgrader",
            }
        ],
    }


def test_a_lab_gets_its_users_formgraders_only(make_spawner):
    c = Config()
    c.CeleryLabSpawner.formgraders = {"ida": [{"course_id": "C1", "url": "u", "kind": "k"}]}
    assert json.loads(make_spawner("ida", c).get_env()["CELERYLAB_FORMGRADERS"]) == [
        {"course_id": "C1", "url": "u", "kind": "k"}
    ]
    assert json.loads(make_spawner("amy", c).get_env()["CELERYLAB_FORMGRADERS"]) == []
