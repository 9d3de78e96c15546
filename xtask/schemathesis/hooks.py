"""Schemathesis hooks for the `schemathesis` stage of `cargo xtask test`.

- Authentication: a real login (HTTP Basic with the email, which no generated request can
  change without the password) gives the access token for every operation. Generated
  requests may end that session (logout, revoking sessions); a 401 then makes schemathesis
  log in again.
- Pagination: the contract refuses `offset` together with `after`, and an `offset` past the
  end of a non-empty list. A JSON schema cannot state either (one is a rule between two
  parameters, the other depends on the data), so generated queries keep to one of the two
  and to offsets that cannot be past the end. Every other rule is the document's own.
"""

import base64
import os

import requests
import schemathesis

BASE_URL = os.environ["MICROBLOG_BASE_URL"]
EMAIL = os.environ["MICROBLOG_EMAIL"]
PASSWORD = os.environ["MICROBLOG_PASSWORD"]


@schemathesis.auth(retry_on=[401])
class Login:
    def get(self, case, ctx):
        credentials = base64.b64encode(f"{EMAIL}:{PASSWORD}".encode()).decode()
        response = requests.post(
            f"{BASE_URL}/api/tokens",
            headers={"Authorization": f"Basic {credentials}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, ctx):
        # Only where the document asks for a Bearer token: the login itself takes Basic
        # credentials, the refresh a cookie.
        security = case.operation.definition.raw.get("security") or []
        if any("bearer" in requirement for requirement in security):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def map_query(context, query):
    if not isinstance(query, dict):
        return query
    if "offset" in query and "after" in query:
        del query["after"]
    offset = query.get("offset")
    if isinstance(offset, int) and not isinstance(offset, bool) and offset > 0:
        query["offset"] = 0
    return query
