from django.db import migrations, models


def rename_duplicates(apps, schema_editor):
    """Credentials made before names were unique keep working: a repeated name gets " (2)",
    " (3)"… in the order they were made, so the constraint below can be added."""
    credential_model = apps.get_model("credentials", "IntegrationCredential")
    taken = set()
    for credential in credential_model.objects.order_by("created_at", "pk"):
        name, number = credential.name, 1
        while name in taken:
            number += 1
            name = f"{credential.name[:190]} ({number})"
        taken.add(name)
        if name != credential.name:
            credential.name = name
            credential.save(update_fields=["name"])


class Migration(migrations.Migration):

    dependencies = [
        ('credentials', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='integrationcredential',
            name='name',
            field=models.CharField(error_messages={'unique': 'A credential with this name already exists. Choose another name, or use the existing credential.'}, max_length=200, unique=True),
        ),
    ]
