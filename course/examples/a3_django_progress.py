"""Task progress to the browser with plain Django: a bound task records progress, a view streams
it as Server-Sent Events, and only the user who started a task may watch it (A3 example).

Usage:
    cd course/examples
    celery -A a3_django_progress worker --loglevel=INFO            # terminal 1
    python -m a3_django_progress watch 5                           # terminal 2: the event stream
    python -m a3_django_progress serve                             # or a page at :8000/?n=20

`watch` starts a task as user ada, prints every event of its stream, then shows that bob is
refused. Progress lives in the result backend (CELERY_RESULT_BACKEND), owners in the cache.
"""

import json
import sys
import time

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=True,
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        SECRET_KEY="example-only",  # noqa: S106 - a local example, never deployed
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        CELERY_TASK_SERIALIZER="json",
        CELERY_ACCEPT_CONTENT=["json"],
    )
    django.setup()

from celery import Celery, uuid  # after settings.configure()
from celery.result import AsyncResult
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

app = Celery("a3_django_progress")
app.config_from_object(settings, namespace="CELERY")

PAGE = """<progress id=bar value=0 max=1></progress><pre id=log></pre><script>
fetch("start/?user=ada&n={n}").then(r => r.json()).then(({{task_id}}) => {{
  const s = new EventSource(`events/${{task_id}}/?user=ada`);
  s.onmessage = e => {{ const p = JSON.parse(e.data); bar.max = p.total; bar.value = p.done;
    log.textContent += e.data + "\\n"; if (p.state === "SUCCESS") s.close(); }};
}});</script>"""


@app.task(bind=True)
def long_report(self, n):
    for done in range(1, n + 1):
        time.sleep(0.1)
        self.update_state(state="PROGRESS", meta={"done": done, "total": n})
    return {"rows": n}


def user_of(request):
    return request.GET.get("user", "")  # an example: a real project uses request.user


def start(request):
    task_id = uuid()
    cache.set(f"owner:{task_id}", user_of(request), 3600)  # the owner, before the task runs
    long_report.apply_async((int(request.GET.get("n", 10)),), task_id=task_id)
    return JsonResponse({"task_id": task_id}, status=202)


def events(request, task_id):
    if not user_of(request) or cache.get(f"owner:{task_id}") != user_of(request):
        return JsonResponse({"error": "not your task"}, status=403)

    def stream():
        last = None
        for _ in range(600):
            result = AsyncResult(task_id, app=app)
            info = result.info if isinstance(result.info, dict) else {}
            body = {
                "state": result.state,
                "done": info.get("done", 0),
                "total": info.get("total", 1),
            }
            if result.state == "SUCCESS":
                body["done"] = body["total"] = result.result["rows"]
            if body != last:
                yield f"data: {json.dumps(body)}\n\n"
                last = body
            if body["state"] in ("SUCCESS", "FAILURE", "REVOKED"):  # what was sent, not a re-read
                return
            time.sleep(0.1)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    return response


def page(request):
    return HttpResponse(PAGE.format(n=int(request.GET.get("n", 20))))


urlpatterns = [path("", page), path("start/", start), path("events/<str:task_id>/", events)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        from django.core.management import call_command

        call_command("runserver", "--noreload", *argv[1:])
        return 0
    if len(argv) == 2 and argv[0] == "watch":
        from django.test import Client

        client = Client()
        task_id = client.get("/start/", {"user": "ada", "n": argv[1]}).json()["task_id"]
        response = client.get(f"/events/{task_id}/", {"user": "ada"})
        for line in b"".join(response.streaming_content).decode().splitlines():
            if line:
                print(line)
        print("bob:", client.get(f"/events/{task_id}/", {"user": "bob"}).status_code)
        return 0
    print("usage: python -m a3_django_progress watch N | serve [ADDRESS:PORT]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
