"""A request class for routes with a JSON body: a body that cannot be decoded is a 400 in the
shared shape (`malformed_json` on `$`), whatever made it undecodable.

msgspec decodes nested arrays and objects recursively and raises RecursionError past Python's
recursion limit; Litestar turns only msgspec's DecodeError into a 400, so a body nested about a
thousand deep escaped as a 500. Routes opt in with `request_class=JsonRequest`.
"""

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from services.errors import ApiError, ErrorDetail


def malformed_json(why: str) -> ApiError:
    """The 400 for a body that is not the JSON the route takes."""
    return ApiError(
        400,
        "malformed_json",
        f"The body is not valid JSON: {why}; send one JSON object.",
        [ErrorDetail(field="$", message=why)],
    )


class JsonRequest(Request[Any, Any, Any]):
    """A Request whose `json()` raises the shared 400 instead of RecursionError or Litestar's
    own serialization error."""

    async def json(self) -> Any:
        """The decoded body; 400 `malformed_json` when it is not JSON or nested too deeply."""
        try:
            return await super().json()
        except RecursionError as error:
            raise malformed_json("nested too deeply to decode") from error
        except SerializationException as error:
            raise malformed_json(str(error)) from error
