"""What the document says besides the endpoints: the error shape (shop.web.json_error writes it), the
description of the API and how a caller authenticates."""
from marshmallow import Schema, fields

from shop.web import ERROR_CODES

from .shapes import Shape, text


class ParameterProblemSchema(Shape):
    parameter = text()
    message = text()


class ErrorBodySchema(Schema):
    code = text("Stable machine-readable code: invalid_parameter, "
                + ", ".join(sorted(set(ERROR_CODES.values()))) + ".", required=True)
    message = text("For people, in the request's language.", required=True)
    parameter = text("The (first) bad query parameter, with invalid_parameter.")
    details = fields.List(fields.Nested(ParameterProblemSchema),
                          metadata={"description": "Every bad parameter, with invalid_parameter."})


class ErrorSchema(Shape):
    error = fields.Nested(ErrorBodySchema)


DOCUMENT_INFO = {
    "description": "Read-only public API of the OCOP-certified products of Đồng Nai. Money is integer VND; dates "
                   "are ISO 8601; text is Unicode NFC. Lists contain only products with a valid certificate of 3 "
                   "stars or more; a point's stock lists what the point may sell (a certificate or another "
                   "qualifying basis). A bad or unknown query parameter is a 400 with code invalid_parameter; an "
                   "empty one counts as absent.",
}

SECURITY_SCHEMES = {
    "bearerToken": {"type": "http", "scheme": "bearer",
                    "description": "An API token of the account (ocop_…), made on its profile."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                      "description": "The site's session cookie, when signed in."},
}
