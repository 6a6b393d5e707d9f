"""The stand-in keeps its state across restarts when given a state file (what the demo does),
so a draft the hub made before a restart can still be updated after it."""

from __future__ import annotations

import requests

from standins.paddle import make_api_key
from standins.paddle.persistence import PersistentPaddleStandin

HEADERS = {"Authorization": f"Bearer {make_api_key('sandbox')}"}
DRAFT = {
    "items": [
        {
            "quantity": 1,
            "price": {
                "description": "Usage for March",
                "name": "Usage",
                "unit_price": {"amount": "1250", "currency_code": "USD"},
                "product": {"name": "Usage", "tax_category": "standard"},
            },
        }
    ],
    "currency_code": "USD",
    "collection_mode": "manual",
    "billing_details": {"payment_terms": {"interval": "day", "frequency": 30}},
    "custom_data": {"m3ter_bill_id": "bill-1"},
}


def call(standin, method, path, **kwargs):
    response = requests.request(method, standin.url + path, headers=HEADERS, timeout=10, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()["data"]


def test_a_draft_made_before_a_restart_is_updated_after_it(tmp_path):
    state_file = tmp_path / "var" / "paddle.pickle"
    with PersistentPaddleStandin(state_file=state_file) as before:
        draft = call(before, "POST", "/transactions", json=DRAFT)
        customer = call(before, "POST", "/customers", json={"email": "ada@example.com"})

    with PersistentPaddleStandin(state_file=state_file) as after:
        items = [{**DRAFT["items"][0], "quantity": 3}]
        updated = call(after, "PATCH", f"/transactions/{draft['id']}", json={"items": items})
        same_email = requests.post(
            after.url + "/customers", headers=HEADERS, json={"email": "ada@example.com"}, timeout=10
        )
        listed = call(after, "GET", "/transactions")

    assert updated["id"] == draft["id"]
    assert updated["details"]["totals"]["subtotal"] == "3750"
    assert [t["id"] for t in listed] == [draft["id"]]
    # Paddle's rules still see the customers made before the restart.
    assert same_email.json()["error"]["code"] == "customer_already_exists"
    assert customer["id"] in same_email.json()["error"]["detail"]


def test_without_a_state_file_it_starts_empty_and_a_reset_is_kept(tmp_path):
    state_file = tmp_path / "paddle.pickle"
    with PersistentPaddleStandin(state_file=state_file) as first:
        assert call(first, "GET", "/transactions") == []
        call(first, "POST", "/transactions", json=DRAFT)
        requests.post(first.url + "/__standin/reset", timeout=10).raise_for_status()

    with PersistentPaddleStandin(state_file=state_file) as second:
        assert call(second, "GET", "/transactions") == []
