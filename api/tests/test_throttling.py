"""POST /oauth/token is throttled per client address, and one key holds a bounded number of
live tokens."""

import pytest
from rest_framework.test import APIClient

from api.models import AccessToken
from api.tests.conftest import basic

pytestmark = pytest.mark.django_db


def ask(api_key, secret, **headers):
    return APIClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(api_key.key_id, secret),
        **headers,
    )


def test_guessing_secrets_is_stopped_with_a_429_that_says_when_to_retry(make_service_user):
    api_key, secret = make_service_user()

    answers = [ask(api_key, f"guess-{n}").status_code for n in range(300)]

    assert answers[:30] == [401] * 30
    assert set(answers[30:]) == {429}
    refused = ask(api_key, secret)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(make_service_user, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    api_key, _ = make_service_user()

    answers = [
        ask(api_key, "guess", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(40)
    ]

    assert answers.count(429) == 10


def test_behind_a_trusted_proxy_each_client_address_counts_apart(make_service_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    api_key, secret = make_service_user()
    for _ in range(30):
        ask(api_key, "guess", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert ask(api_key, secret, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert ask(api_key, secret, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 200


def test_other_api_requests_are_not_counted(client_for):
    api = client_for()

    answers = {api.get("/organizations/x/integrationconfigs").status_code for _ in range(40)}

    assert answers == {404}


def test_a_key_holds_at_most_the_capped_number_of_live_tokens(make_service_user, settings):
    settings.API_MAX_TOKENS_PER_KEY = 3
    api_key, secret = make_service_user()

    tokens = [ask(api_key, secret).json()["access_token"] for _ in range(5)]

    assert AccessToken.objects.filter(api_key=api_key).count() == 3
    oldest, newest = APIClient(), APIClient()
    oldest.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    newest.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[-1]}")
    url = "/organizations/x/integrationconfigs"
    assert oldest.get(url).status_code == 401
    assert newest.get(url).status_code == 404
