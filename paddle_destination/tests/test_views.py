"""Preview in Paddle on a bill's page."""

import pytest
from django.urls import reverse

from paddle_destination.tests.test_delivery import bill_with_lines
from runs.tests.test_views import user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client):
    client.force_login(user_with(["m3terdata.view_bill"], "viewer"))
    return client


def preview_url(bill, integration):
    return reverse("paddle_destination:bill_preview", args=[bill.m3ter_id, integration.pk])


def test_the_bill_page_offers_a_preview_per_integration(viewer, integration):
    bill = bill_with_lines()

    html = viewer.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id])).content.decode()

    assert preview_url(bill, integration) in html
    assert "Preview in Paddle" in html


def test_the_preview_shows_paddles_totals_and_creates_nothing(viewer, paddle, integration):
    bill = bill_with_lines(None, "12.50", "7.25")

    response = viewer.post(preview_url(bill, integration))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was created in Paddle" in html
    assert "19.75 USD" in html
    assert paddle.dump()["transactions"] == []


def test_a_bill_paddle_cannot_take_says_why_and_what_to_do(viewer, paddle, integration):
    bill = bill_with_lines(None, "5", "-1")

    response = viewer.post(preview_url(bill, integration))

    assert response.status_code == 200
    html = response.content.decode()
    assert "cannot have negative lines" in html and "What to do:" in html
    assert paddle.stats()["total"] == 0


def test_preview_needs_a_post_and_a_known_bill(viewer, integration):
    bill = bill_with_lines()
    assert viewer.get(preview_url(bill, integration)).status_code == 405
    bill.m3ter_id = "nope"
    assert viewer.post(preview_url(bill, integration)).status_code == 404


def test_preview_needs_permission_to_see_bills(client, integration):
    client.force_login(user_with([], "nobody"))
    assert client.post(preview_url(bill_with_lines(), integration)).status_code == 403
