"""The shop's tasks (F05 lab; the bugs are not in this file). Its configuration comes from
shop/celeryconfig.py, which you write in the notebook."""

from celery import Celery

app = Celery("shop")
app.config_from_object("shop.celeryconfig")


@app.task
def send_email(to, subject):
    return f"sent {subject!r} to {to}"


@app.task
def resize_image(name, width):
    return f"{name} resized to {width}px"


@app.task
def generate_report(day):
    return f"report for {day}"
