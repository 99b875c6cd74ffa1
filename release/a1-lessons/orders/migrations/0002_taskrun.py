from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]  # noqa: RUF012 - Django's migration format

    operations = [  # noqa: RUF012
        migrations.CreateModel(
            name="TaskRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("task_id", models.CharField(max_length=64, unique=True)),
                ("task_name", models.CharField(max_length=200)),
                ("subject", models.CharField(max_length=200)),
                ("started_by", models.CharField(max_length=150)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
