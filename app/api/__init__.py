"""JSON API under /api/v1: bearer tokens, pydantic-checked bodies, errors that name the field."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_wtf.csrf import CSRFError
from pydantic import BaseModel, ValidationError

from app.api.contract import check_body
from app.errors import Forbidden, Invalid, LotwiseError, Unauthorized, UriTooLong, validation_error
from app.models import Role, User
from app.services import idempotency
from app.services.base import statement_at_a_time
from app.services.idempotency import IdempotencyKey
from app.services.users import user_for_token
from app.sessions import bearer_token
from app.web import booking_key, client_address, current_user, db, now, streamed, throttle_policy, token_cache

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    name: str
    summary: str
    tag: str
    role: Role
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    many: bool = False
    status: int = 200
    errors: tuple[int, ...] = field(default=())
    idempotent: bool = False
    # False for a booking that talks to a device outside any write transaction (a label printer): its
    # replay re-reads what the key booked instead of the kept answer.
    keep_answer: bool = True
    # Set for routes that answer with a file download of this media type instead of JSON.
    media_type: str | None = None
    # Set for routes whose body is multipart/form-data (a file upload) described by this model.
    form: type[BaseModel] | None = None


ROUTES: list[Route] = []


def authenticate(role: Role, *, attach: bool = True) -> User:
    """The caller: a bearer token, or a logged-in browser session (which must then send the CSRF header).

    With `attach` false (a view that only reads and logs) a token's user need not be an object of the request's
    session (`services.users.user_for_token`).
    """
    token = bearer_token(request)
    if token is not None:
        user = user_for_token(db(), token, address=client_address(), now=now(), policy=throttle_policy(),
                              cache=token_cache(), attach=attach)
        if user is None:
            raise Unauthorized("the API token is unknown or revoked")
    else:
        user = current_user()
        if user is None:
            raise Unauthorized("send 'Authorization: Bearer <token>' (create one with 'lotwise token create')")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            current_app.extensions["csrf"].protect()
    if not user.has_role(role):
        raise Forbidden(f"this needs the {role.value} role; {user.username} is {user.role.value}")
    g.user = user
    return user


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def json_answer(result: Any) -> Response:
    """A view's answer as JSON. A model is written by pydantic itself: the same document as jsonify(model_dump) gives
    (keys in the model's order), at a third of the CPU."""
    if isinstance(result, BaseModel):
        # The content type as given: the header mimetype="application/json" would work out afresh for every answer.
        return Response(result.model_dump_json(), content_type="application/json")
    return jsonify(_dump(result))


def endpoint(
    rule: str,
    method: str = "GET",
    *,
    summary: str,
    tag: str,
    role: Role = Role.VIEWER,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    many: bool = False,
    status: int = 200,
    errors: tuple[int, ...] = (),
    idempotent: bool = False,
    keep_answer: bool = True,
    statement_by_statement: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an API view together with what the OpenAPI document says about it.

    A `statement_by_statement` view (one that reads and logs, never books) runs each statement on its own on
    PostgreSQL (`services.base.statement_at_a_time`): two round trips fewer for a request every handheld sends.

    An `idempotent` view takes an `Idempotency-Key` header, scoped to the caller and fingerprinted
    with the method, path and body: the booking and its answer are kept together, a replay gets the
    same status and document, and the key sent with another request is refused (422).
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        def view(**params: Any) -> tuple[Response, int]:
            if statement_by_statement:
                statement_at_a_time(db())
            user = authenticate(role, attach=not statement_by_statement)
            kwargs: dict[str, Any] = {"user": user, **params}
            data = request.get_json(silent=True) if body is not None or idempotent else None
            if body is not None:
                if not isinstance(data, dict):
                    raise Invalid("the request body must be a JSON object", None)
                try:
                    kwargs["body"] = body.model_validate(data)
                except ValidationError as exc:
                    raise validation_error(exc) from None
                # pydantic words its refusals best; what it would let by leniently, the document refuses.
                check_body(body, data)
            if query is not None:
                try:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
                except ValidationError as exc:
                    raise validation_error(exc) from None
            if idempotent:
                kwargs["request_key"] = key = _idempotency_key(data)
                if key is not None and keep_answer:
                    answer = idempotency.answer_once(db(), key, user, status, lambda: _dump(fn(**kwargs)))
                    return jsonify(answer.document), answer.status
            return json_answer(fn(**kwargs)), status

        name = fn.__name__
        bp.add_url_rule(rule, endpoint=name, view_func=view, methods=[method])
        ROUTES.append(Route(rule=rule, method=method, name=name, summary=summary, tag=tag, role=role,
                            body=body, query=query, response=response, many=many, status=status,
                            errors=errors, idempotent=idempotent, keep_answer=keep_answer))
        return fn

    return deco


def _idempotency_key(body: Any) -> IdempotencyKey | None:
    """The request's Idempotency-Key header with the fingerprint of the request, if one was sent."""
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return None
    if not (1 <= len(key) <= 100):
        raise Invalid("Idempotency-Key must be 1 to 100 characters", idempotency.HEADER)
    return booking_key(key, idempotency.fingerprint(request.method, request.path, body))


def upload_endpoint(
    rule: str,
    *,
    summary: str,
    tag: str,
    form: type[BaseModel],
    role: Role = Role.VIEWER,
    response: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a POST view whose body is multipart/form-data, documented in OpenAPI by `form`.

    Each field of `form` comes from the form field or the uploaded file of the same name; a file
    arrives as its bytes, so the model declares it `bytes` (OpenAPI: string, format binary).
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        def view(**params: Any) -> tuple[Response, int]:
            user = authenticate(role)
            for name in request.form:
                if name in form.model_fields and len(request.form.getlist(name)) > 1:
                    raise Invalid(f"{name} must be sent once", name)
            data: dict[str, Any] = request.form.to_dict()
            for name, upload in request.files.items():
                data[name] = upload.read()
            try:
                body = form.model_validate(data)
            except ValidationError as exc:
                raise validation_error(exc) from None
            result = fn(user=user, body=body, **params)
            return jsonify(_dump(result)), 200

        name = fn.__name__
        bp.add_url_rule(rule, endpoint=name, view_func=view, methods=["POST"])
        ROUTES.append(Route(rule=rule, method="POST", name=name, summary=summary, tag=tag, role=role,
                            response=response, errors=errors, form=form))
        return fn

    return deco


@dataclass(frozen=True)
class FileResult:
    """What a file route returns: the bytes and the file name offered to the browser."""

    content: bytes | Iterator[bytes]
    filename: str


def file_endpoint(
    rule: str,
    *,
    summary: str,
    tag: str,
    media_type: str,
    role: Role = Role.VIEWER,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    inline: bool = False,
) -> Callable[[Callable[..., FileResult]], Callable[..., FileResult]]:
    """Register a GET view that answers with a file (CSV, XLSX, PDF ...), documented in OpenAPI.

    `inline` files (a PDF to print, an image) open in the browser instead of being saved.
    """

    def deco(fn: Callable[..., FileResult]) -> Callable[..., FileResult]:
        def view(**params: Any) -> Response:
            user = authenticate(role)
            kwargs: dict[str, Any] = {"user": user, **params}
            if query is not None:
                try:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
                except ValidationError as exc:
                    raise validation_error(exc) from None
            result = fn(**kwargs)
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", result.filename)
            disposition = "inline" if inline else "attachment"
            # A file given as pieces is streamed; the request (and its database session) stays open until the
            # last piece is sent.
            body = result.content if isinstance(result.content, bytes) else streamed(result.content)
            return Response(body, 200, mimetype=media_type,
                            headers={"Content-Disposition": f'{disposition}; filename="{safe}"'})

        name = fn.__name__
        bp.add_url_rule(rule, endpoint=name, view_func=view, methods=["GET"])
        ROUTES.append(Route(rule=rule, method="GET", name=name, summary=summary, tag=tag, role=role,
                            query=query, errors=errors, media_type=media_type))
        return fn

    return deco


def error_response(exc: LotwiseError) -> tuple[Response, int]:
    response = jsonify(exc.to_dict())
    response.headers.update(exc.headers())
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="Lotwise"'
    return response, exc.status


# Below gunicorn's request-line limit (4094 bytes), so a long query string gets a JSON answer naming the limit.
MAX_URL_LENGTH = 4000


@bp.before_request
def _url_not_too_long() -> None:
    req = request._get_current_object()  # type: ignore[attr-defined]
    # The path, "?" and the raw query string are at least as long as request.full_path (which decodes the query
    # string), so nearly every request is let through without building full_path.
    if len(req.path) + 1 + len(req.environ.get("QUERY_STRING", "")) <= MAX_URL_LENGTH:
        return
    if len(req.full_path) > MAX_URL_LENGTH:
        raise UriTooLong(f"the URL is {len(req.full_path)} characters long; the API takes at most "
                         f"{MAX_URL_LENGTH}")


@bp.errorhandler(LotwiseError)
def _domain_error(exc: LotwiseError) -> tuple[Response, int]:
    db().rollback()
    return error_response(exc)


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> tuple[Response, int]:
    return error_response(Forbidden(f"CSRF check failed: {exc.description}; send the X-CSRFToken header",
                                    "X-CSRFToken"))


def openapi_path(rule: str) -> str:
    """Flask's /lots/<int:lot_id> as OpenAPI's /lots/{lot_id}."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


from app.api import (  # noqa: E402,F401  (routes register on import)
    allocation,
    documents,
    exports,
    imports,
    labels,
    masterdata,
    recalls,
    recipes,
    scans,
    stations,
    stock,
    trace,
    waste,
)
