"""Look-alike accounts: an address that looks like another must not become a second user.
Found by an attack: "ａdmin@kommun.example" (a full-width a) was accepted as a user apart from
admin@kommun.example. Addresses are normalised (NFKC, lower case) when stored and looked up,
and must then be ASCII (docs/roles-and-access.md). The OpenID Connect claim is checked in
tests/test_auth.py."""

from __future__ import annotations

import pytest

ADMIN = "admin@kommun.example"
FULL_WIDTH = "ａdmin@kommun.example"  # U+FF41
CYRILLIC = "\u0430dmin@kommun.example"  # а, U+0430
FULL_WIDTH_ALL = "ＡＤＭＩＮ＠ＫＯＭＭＵＮ．ＥＸＡＭＰＬＥ"


def _create(client, make, org, email):
    return client.post("/api/v1/users", json={"email": email, "name": "Namn",
                                              "roles": ["employee"]},
                       headers=make.headers(org.admin))


@pytest.mark.parametrize("look_alike", [FULL_WIDTH, FULL_WIDTH_ALL, " Admin@Kommun.Example "])
def test_a_compatibility_form_of_an_address_is_the_same_address(client, make, org, look_alike):
    make.user("employee", email=ADMIN)
    r = _create(client, make, org, look_alike)
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["errors"] == {"email": ["already registered"]}


def test_a_new_address_is_stored_normalised(client, make, org):
    r = _create(client, make, org, "ＮＹ.Person@Kommun.example")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["email"] == "ny.person@kommun.example"


@pytest.mark.parametrize("email", [CYRILLIC, "åsa@kommun.example", "anna@kömmun.example"])
def test_an_address_that_is_not_ascii_is_refused(client, make, org, email):
    r = _create(client, make, org, email)
    assert r.status_code == 422, r.get_json()
    assert "ASCII" in r.get_json()["errors"]["email"][0]


def test_changing_an_address_to_a_look_alike_of_another_is_409(client, make, org):
    make.user("employee", email=ADMIN)
    headers = make.headers(org.admin)
    user = org.employee_a1
    etag = client.get(f"/api/v1/users/{user.id}", headers=headers).headers["ETag"]
    r = client.patch(f"/api/v1/users/{user.id}", json={"email": FULL_WIDTH},
                     headers={**headers, "If-Match": etag})
    assert r.status_code == 409, r.get_json()


def test_issuing_a_token_finds_the_user_by_a_look_alike(runner, make):
    user = make.user("employee", email=ADMIN)
    result = runner.invoke(args=["tokens", "issue", FULL_WIDTH])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "issue", CYRILLIC])
    assert result.exit_code != 0
    assert user.email == ADMIN
