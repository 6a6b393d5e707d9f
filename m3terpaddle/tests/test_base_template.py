"""What every page shares through templates/base.html."""

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.templatetags.static import static


@pytest.mark.django_db
def test_every_page_links_a_favicon_that_is_there(client):
    client.force_login(User.objects.create_superuser("root", password=None))

    page = client.get("/integrations/").content.decode()

    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in page
    with open(finders.find("favicon.svg"), encoding="utf-8") as icon:
        assert icon.read().lstrip().startswith("<svg")
