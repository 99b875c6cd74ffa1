"""The report endpoints (given); the views are yours, in reports/views.py."""

from django.urls import path

from reports import views

urlpatterns = [
    path("start/", views.start),
    path("<str:task_id>/events/", views.events),
    path("<str:task_id>/cancel/", views.cancel),
]
