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


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/runs/integrationrun/"])
def test_admin_pages_link_the_favicon_too_and_keep_their_title_and_header(client, path):
    client.force_login(User.objects.create_superuser("root", password=None))

    page = client.get(path).content.decode()

    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in page
    assert " | m3terpaddle admin</title>" in page
    assert '<div id="site-name"><a href="/admin/">m3terpaddle</a></div>' in page
