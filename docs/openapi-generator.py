#!/usr/bin/env python3
"""Generates docs/openapi.json, the OpenAPI 3.1 document of the follow-up service API.

Run it from anywhere (`python3 docs/openapi-generator.py`); it writes `openapi.json` next to
itself. Edit this script, not the JSON: `tests/tests/openapi.rs` checks the document against
the router, and the service serves the file as `/v1/openapi.json`.
"""
import json
from datetime import datetime, timezone
from pathlib import Path

def any_case(values):
    """A pattern matching exactly one of `values`, in any letter case (the code compares
    case-insensitively; JSON Schema patterns have no case-insensitive flag)."""
    def letter(c):
        return f"[{c.upper()}{c.lower()}]" if c.isalpha() else c
    return "^(" + "|".join("".join(letter(c) for c in v) for v in values) + ")$"

TEMPLATE_STATUSES = ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION",
                     "DELETED", "LIMIT_EXCEEDED", "ARCHIVED", "FLAGGED", "UNKNOWN", "REINSTATED"]

def ref(name, kind="schemas"):
    return {"$ref": f"#/components/{kind}/{name}"}

PROBLEM = "application/problem+json"

# ---------------------------------------------------------------- examples
appointment_req = {
    "name": "Appointment reminder - 4 hours",
    "color": "blue",
    "delay": {"mode": "manual", "hours": 4},
    "description": "The customer showed interest in booking an appointment but did not confirm a date and time.",
    "stop_trigger": "The customer confirmed an appointment, cancelled, or is no longer interested.",
    "message": {"mode": "custom", "text": "Hi! Would you still like to book your appointment? Free slots: Tue 10:00, Wed 15:00 or Thu 17:30. Just reply with the time that suits you."},
    "whatsapp_template": {
        "name": "appointment_reminder",
        "language": "en_US",
        "parameters": [{"type": "profile_name"}, {"type": "text", "text": "Tue 10:00"}],
    },
    "active": True,
}
aftersales_req = {
    "name": "After-sales check - 24 hours",
    "color": "green",
    "delay": {"mode": "manual", "hours": 24},
    "description": "After a purchase, to make sure the customer is satisfied with what they bought.",
    "stop_trigger": "The customer confirms satisfaction, reports a problem (escalate to support) or says thanks.",
    "message": {"mode": "ai"},
    "whatsapp_template": {
        "name": "purchase_confirmation",
        "language": "en",
        "parameters": [{"type": "profile_name"}],
    },
    "active": True,
}

COST_FREE_NOTE = "Sends only free-form messages inside the 24-hour window, which Meta does not bill."
COST_TEMPLATE_NOTE = ("Free-form messages inside the 24-hour window are free; every WhatsApp template send "
                      "(past the window) is billed by Meta at the rate of the template's category.")

def cost_of(req, template_category):
    """The `cost` of a follow-up response; `template_category` as the catalogue knows the template."""
    if req.get("whatsapp_template") is None:
        return {"billed_sends": "none", "template_category": None, "note": COST_FREE_NOTE}
    return {"billed_sends": "whatsapp_template_sends", "template_category": template_category,
            "note": COST_TEMPLATE_NOTE}

def response_of(req, fid, minutes, plans, warnings, revision=1,
                created="2026-11-24T05:00:00.123Z", updated=None, template_category="UTILITY"):
    body = {"id": fid, "chatbot_id": "dental-clinic"}
    for k in ["name", "color", "delay", "description", "stop_trigger", "message",
              "whatsapp_template", "active"]:
        body[k] = req.get(k)
    body["delay"] = {"mode": "manual", "minutes": minutes}
    body["revision"] = revision
    body["created_at"] = created
    body["updated_at"] = updated or created
    body["effective_delays"] = plans
    body["warnings"] = warnings
    body["cost"] = cost_of(req, template_category)
    return body

def plan(platform, req_m, eff_m, clamped, send_as):
    return {"platform": platform, "requested_minutes": req_m, "effective_minutes": eff_m,
            "clamped": clamped, "send_as": send_as}

def clamp_warning(platform, eff, req):
    extra = " unless a WhatsApp template is set" if platform == "whatsapp" else ""
    return {
        "code": "delay_clamped", "field": "delay", "platform": platform,
        "message": (f"{platform} allows free-form messages only within 24 hours of the customer's last "
                    f"message{extra}; this follow-up will be sent after {eff} minutes instead of {req} "
                    f"(24 h minus a 15-minute safety margin)."),
    }

FU1 = "fu_0193b5e2a7c47d2e9f1a3b5c7d9e1f20"
FU2 = "fu_0193b5e3f0a87b1c8d2e4f6a8b0c2d41"
assert len(FU1) == 35 and len(FU2) == 35

appointment_resp = response_of(appointment_req, FU1, 240,
    [plan(p, 240, 240, False, "free_form") for p in ["whatsapp", "messenger", "instagram"]], [])
aftersales_resp = response_of(aftersales_req, FU2, 1440,
    [plan("whatsapp", 1440, 1440, False, "template"),
     plan("messenger", 1440, 1425, True, "free_form"),
     plan("instagram", 1440, 1425, True, "free_form")],
    [clamp_warning("messenger", 1425, 1440), clamp_warning("instagram", 1425, 1440)],
    created="2026-11-24T05:01:10.456Z")

def template_warning(template, detail):
    """A `template_not_approved` warning (detail: `status PAUSED (FIRST_PAUSE)`), or with
    detail None a `template_not_in_catalogue` one, as shared/domain/src/template.rs words them."""
    what = (f"Template {template['name']} ({template['language']}) is no longer in the catalogue"
            if detail is None else
            f"Template {template['name']} ({template['language']}) is not approved: {detail}")
    return {
        "code": "template_not_in_catalogue" if detail is None else "template_not_approved",
        "field": "whatsapp_template", "platform": "whatsapp",
        "message": f"{what}. WhatsApp sends past 24 hours are skipped until Meta approves it again.",
    }

# The after-sales check once Meta paused its template (status-update webhook, FIRST_PAUSE).
aftersales_paused_resp = {
    **aftersales_resp,
    "warnings": aftersales_resp["warnings"] + [
        template_warning(aftersales_req["whatsapp_template"], "status PAUSED (FIRST_PAUSE)")],
}

examples = {
    "AppointmentReminderRequest": {
        "summary": "Worked example 1: appointment reminder (4 h, blue, custom text, template)",
        "description": "Sent 4 hours after the customer's last message, inside the 24 h window on every platform; the fixed text goes out as is. The WhatsApp template is configured for sends past the window.",
        "value": appointment_req,
    },
    "AfterSalesCheckRequest": {
        "summary": "Worked example 2: after-sales check (24 h, green, AI message, template purchase_confirmation)",
        "description": "24 hours is past the window (24 h minus the safety margin): on WhatsApp the template `purchase_confirmation` goes out after 24 h; on Messenger and Instagram the delay is clamped to 1425 minutes and the response carries a `delay_clamped` warning for each.",
        "value": aftersales_req,
    },
    "AppointmentReminderResponse": {
        "summary": "The appointment reminder as stored",
        "value": appointment_resp,
    },
    "AfterSalesCheckResponse": {
        "summary": "The after-sales check as stored, with clamping warnings",
        "value": aftersales_resp,
    },
    "AfterSalesCheckTemplatePausedResponse": {
        "summary": "The after-sales check after Meta paused its template",
        "description": "Meta paused `purchase_confirmation` (en) for low quality (`FIRST_PAUSE`, reported by "
                       "the status-update webhook). The follow-up is unchanged and still active; a "
                       "`template_not_approved` warning says that its WhatsApp sends past the window are "
                       "skipped (`template_not_approved`) until Meta approves the template again. Sends "
                       "inside the window are not affected.",
        "value": aftersales_paused_resp,
    },
    "ValidationFailed": {
        "summary": "Three broken rules, each with its field path",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "3 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "name", "rule": "max_length", "message": "must be at most 100 characters (got 117)"},
                {"field": "delay.hours", "rule": "range", "message": "must be between 1 and 720 hours (30 days)"},
                {"field": "whatsapp_template.parameters[1].text", "rule": "required", "message": "this field is required"},
            ],
        },
    },
    "WrongJsonType": {
        "summary": "A JSON value of the wrong type",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "delay.minutes", "rule": "type", "message": "invalid type: string \"4\", expected i64"},
            ],
        },
    },
    "UnknownField": {
        "summary": "A field that is not part of the API",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "colour", "rule": "unknown_field", "message": "this field is not part of the API"},
            ],
        },
    },
    "NotNullable": {
        "summary": "PATCH with `\"active\": null, \"message\": null`: only `color` and `whatsapp_template` can be cleared",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "2 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "active", "rule": "not_nullable", "message": "only `color` and `whatsapp_template` can be cleared with null"},
                {"field": "message", "rule": "not_nullable", "message": "only `color` and `whatsapp_template` can be cleared with null"},
            ],
        },
    },
    "BadListFilter": {
        "summary": "An invalid list filter",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "active", "rule": "boolean", "message": "must be `true` or `false`"},
            ],
        },
    },
    "ActiveLimitReached": {
        "summary": "A sixth active follow-up was refused",
        "value": {
            "type": "active-limit-reached",
            "title": "Active follow-up limit reached",
            "status": 409,
            "detail": "This chatbot already has 5 active follow-ups, the most allowed. Deactivate one before activating another; nothing was changed.",
        },
    },
    "RevisionConflict": {
        "summary": "Concurrent writes kept winning (PATCH without If-Match)",
        "value": {
            "type": "revision-conflict",
            "title": "Changed concurrently",
            "status": 409,
            "detail": "The follow-up was changed by another request (now revision 7); read it again and retry.",
        },
    },
    "TemplateLanguageNotFound": {
        "summary": "The template exists in the catalogue, but not in this language",
        "description": "`whatsapp_template` set to `appointment_reminder` in `en_GB`; the catalogue has it in "
                       "`en_US` and `es` only. Checked against the catalogue once every other rule passed.",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "whatsapp_template.language", "rule": "template_language_not_found",
                 "message": "template `appointment_reminder` has no `en_GB` version; it exists in: en_US, es"},
            ],
        },
    },
    "TemplateNotApproved": {
        "summary": "The template is in the catalogue but not approved (here: paused by Meta)",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "whatsapp_template.name", "rule": "template_not_approved",
                 "message": "template `new_patient_offer` (en_US) is PAUSED (FIRST_PAUSE); only approved "
                            "templates can be used"},
            ],
        },
    },
    "TemplateParameterCount": {
        "summary": "Fewer parameters than the template's body placeholders",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "whatsapp_template.parameters", "rule": "template_parameter_count",
                 "message": "template `appointment_reminder` (en_US) has 2 body placeholder(s); 1 parameter(s) "
                            "configured"},
            ],
        },
    },
}
TEMPLATE_CHECK_EXAMPLES = ["TemplateLanguageNotFound", "TemplateNotApproved", "TemplateParameterCount"]

# ---------------------------------------------------------------- responses
def problem_response(description, example_names=None, headers=None, single_example=None):
    media = {"schema": ref("Problem")}
    if example_names:
        media["examples"] = {n: ref(n, "examples") for n in example_names}
    if single_example:
        media["example"] = single_example
    r = {"description": description, "content": {PROBLEM: media}}
    if headers:
        r["headers"] = headers
    return r

# The save-time check of a follow-up's template against the chatbot's template catalogue
# (check_against_catalogue in shared/domain/src/template.rs).
TEMPLATE_CHECK_NOTE = (
    "Once every other rule passed, a `whatsapp_template` that this request sets or changes (name, language "
    "or parameters) is checked against the chatbot's WhatsApp template catalogue, and the first mismatch is "
    "reported as one error under `whatsapp_template`: `name` with rule `template_not_found` (no template of "
    "that name in the catalogue, also when the catalogue is empty: refresh it first), `language` with "
    "`template_language_not_found` (the message lists the languages it exists in), `name` with "
    "`template_not_approved` (its status is neither APPROVED nor FLAGGED), `name` with "
    "`template_unsupported` (a follow-up cannot fill it; the message says why), or `parameters` with "
    "`template_parameter_count` (the number of `parameters` must equal the template's body placeholders, "
    "its `body_parameter_count`). A template the request leaves as it is is not checked again.")

NOT_FOUND_EXAMPLE = {"type": "not-found", "title": "Not found", "status": 404,
                     "detail": "No such resource for this chatbot."}

responses = {
    "BadRequest": problem_response(
        "Malformed request (`type: bad-request`): the body is not valid JSON, the body could not be read, "
        "the query string could not be parsed, `If-Match` is neither a strong ETag such as `\"3\"` nor `*` "
        "(a weak `W/\"3\"` is refused too), or a path parameter does not decode to valid UTF-8. "
        "`detail` says which.",
        single_example={"type": "bad-request", "title": "Malformed request", "status": 400,
                        "detail": "If-Match must be a strong ETag such as \"3\""}),
    "BadPath": problem_response(
        "Malformed request (`type: bad-request`): a path parameter does not decode to valid UTF-8 "
        "(e.g. `%FF`).",
        single_example={"type": "bad-request", "title": "Malformed request", "status": 400,
                        "detail": "the path is not valid UTF-8 after decoding"}),
    "Unauthenticated": problem_response(
        "`type: unauthenticated`: the `Authorization: Bearer <token>` header is missing, or the token is unknown.",
        headers={"WWW-Authenticate": {"description": "Always `Bearer`.", "schema": {"type": "string", "const": "Bearer"}}},
        single_example={"type": "unauthenticated", "title": "Authentication required", "status": 401,
                        "detail": "Send `Authorization: Bearer <token>` with a token configured for this service."}),
    "Forbidden": problem_response(
        "`type: forbidden`: the token is valid but does not grant access to this chatbot. "
        "A token limited to named chatbots also gets 403 for a `chatbot_id` that is not a valid id.",
        single_example={"type": "forbidden", "title": "No access to this chatbot", "status": 403,
                        "detail": "Your token does not grant access to chatbot `dental-clinic`."}),
    "NotFound": problem_response(
        "`type: not-found`: the chatbot id or the follow-up id is not a valid id, or this chatbot has no "
        "follow-up with this id (a follow-up of another chatbot is never shown).",
        single_example=NOT_FOUND_EXAMPLE),
    "ActiveLimitReached": problem_response(
        "`type: active-limit-reached`: the change would make more than 5 follow-ups of this chatbot active. "
        "Nothing was changed; deactivate another one first (or save this one with `\"active\": false`).",
        example_names=["ActiveLimitReached"]),
    "PreconditionFailed": problem_response(
        "`type: precondition-failed`: `If-Match` names another revision than the current one; nothing was "
        "changed. `detail` gives the current revision: read the follow-up again and retry.",
        single_example={"type": "precondition-failed", "title": "Revision mismatch", "status": 412,
                        "detail": "If-Match does not match the current revision (4); nothing was changed."}),
    "PayloadTooLarge": problem_response(
        "`type: payload-too-large`: the request body is larger than 64 KiB (65536 bytes).",
        single_example={"type": "payload-too-large", "title": "Payload too large", "status": 413,
                        "detail": "The request body exceeds the size limit."}),
    "UnsupportedMediaType": problem_response(
        "`type: unsupported-media-type`: the `Content-Type` is missing or is not JSON "
        "(`application/json` or any `application/*+json`, parameters such as `charset` allowed).",
        single_example={"type": "unsupported-media-type", "title": "Unsupported media type", "status": 415,
                        "detail": "Send the body as `Content-Type: application/json`."}),
    "ValidationFailed": problem_response(
        "`type: validation-failed`: the body is JSON of the wrong shape (a wrong type: rule `type`; a field "
        "that is not part of the API: rule `unknown_field`), or breaks one or more rules. `errors` lists "
        "every broken rule at once, each with the field's JSON path "
        "(e.g. `whatsapp_template.parameters[1].text`); nothing was changed. " + TEMPLATE_CHECK_NOTE,
        example_names=["ValidationFailed", "WrongJsonType", "UnknownField"] + TEMPLATE_CHECK_EXAMPLES),
    "PatchValidationFailed": problem_response(
        "`type: validation-failed`: `null` was sent for a field that cannot be cleared (anything but `color` "
        "and `whatsapp_template`: rule `not_nullable`, one error per such top-level field, reported before "
        "any other rule is checked); or the body is JSON of the wrong shape (a wrong type: rule `type`; a "
        "field that is not part of the API: rule `unknown_field`); or the patched configuration breaks one "
        "or more rules. `errors` lists every broken rule at once, each with the field's JSON path "
        "(e.g. `whatsapp_template.parameters[1].text`); nothing was changed. " + TEMPLATE_CHECK_NOTE,
        example_names=["NotNullable", "ValidationFailed", "WrongJsonType", "UnknownField"]
        + TEMPLATE_CHECK_EXAMPLES),
    "Unavailable": problem_response(
        "`type: unavailable`: the store could not complete the request. Retry later; the body carries no "
        "internal details.",
        single_example={"type": "unavailable", "title": "Temporarily unavailable", "status": 503,
                        "detail": "The service could not complete the request; retry later."}),
    "UnavailableCancelling": problem_response(
        "`type: unavailable`: the store or the scheduler could not complete the request. Retry later; the "
        "body carries no internal details. The change itself may already be saved, with only the "
        "cancellation of the follow-up's pending instances left unfinished: repeating the call finishes it "
        "(deactivating, or saving an inactive follow-up, cancels again every time, a no-op included). After "
        "a conditional PUT or PATCH, the saved change has a new revision, so repeat it without `If-Match` "
        "(or with the current revision) or call `deactivate`; a repeated DELETE finishes the cancellation "
        "and then answers 404, since the follow-up is already gone.",
        single_example={"type": "unavailable", "title": "Temporarily unavailable", "status": 503,
                        "detail": "The service could not complete the request; retry later."}),
    "Internal": problem_response(
        "`type: internal`: an unexpected error on the server's side; it was logged and no details are sent.",
        single_example={"type": "internal", "title": "Internal error", "status": 500,
                        "detail": "Something went wrong on our side; it has been logged."}),
}

etag_header = {
    "description": "The follow-up's revision as a strong entity tag, e.g. `\"3\"`. Send it back in "
                   "`If-Match` on PUT or PATCH to make the change conditional.",
    "schema": {"type": "string", "pattern": "^\"[0-9]+\"$", "examples": ["\"1\""]},
}
location_header = {
    "description": "Path of the new follow-up: `/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}`.",
    "schema": {"type": "string", "format": "uri-reference",
               "examples": [f"/v1/chatbots/dental-clinic/follow-ups/{FU1}"]},
}
headers = {"ETag": etag_header, "Location": location_header}

# ---------------------------------------------------------------- parameters
parameters = {
    "ChatbotId": {
        "name": "chatbot_id", "in": "path", "required": True,
        "description": "The chatbot (tenant) the follow-ups, integrations and conversations belong to: 1 to 64 characters of A-Z, a-z, "
                       "0-9, `-` or `_`. The bearer token must grant it (else 403); an id of another form "
                       "is 404 (or 403 for a token limited to named chatbots). A value that does not "
                       "percent-decode to valid UTF-8 is 400 (`bad-request`).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "examples": ["dental-clinic"]},
    },
    "FollowUpId": {
        "name": "follow_up_id", "in": "path", "required": True,
        "description": "The follow-up's id as returned on creation (`fu_` and 32 hex digits). An id of "
                       "another form, or one of another chatbot, is 404. A value that does not percent-decode "
                       "to valid UTF-8 is 400 (`bad-request`).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "examples": [FU1]},
    },
    "IfMatch": {
        "name": "If-Match", "in": "header", "required": False,
        "description": "Optional optimistic concurrency: the strong `ETag` of the revision the change is "
                       "based on, a quoted integer such as `\"3\"`. When the follow-up is at another revision "
                       "the request fails with 412 and nothing changes (also when the change would be a "
                       "no-op). `*` matches any revision; no header: no check. Anything else is 400 "
                       "(`bad-request`): a weak tag such as `W/\"3\"`, an unquoted number, a list of tags.",
        "schema": {"type": "string", "pattern": "^(\\*|\"[0-9]+\")$", "examples": ["\"3\"", "*"]},
    },
    "ColorFilter": {
        "name": "color", "in": "query", "required": False,
        "description": "Only follow-ups with this label colour. Any other value is 422 (field `color`, rule `one_of`).",
        "schema": ref("LabelColor"),
    },
    "ActiveFilter": {
        "name": "active", "in": "query", "required": False,
        "description": "Only active (`true`) or only inactive (`false`) follow-ups. Exactly `true` or `false`; "
                       "anything else is 422 (field `active`, rule `boolean`).",
        "schema": {"type": "boolean"},
    },
}

# ---------------------------------------------------------------- schemas
TEXT_NOTE = ("Leading and trailing whitespace is trimmed and the trimmed text is stored. Lengths count "
             "characters (Unicode scalar values), not bytes. Must contain a non-whitespace character "
             "(rule `not_blank`).")

def nullable(schema):
    return {"oneOf": [schema, {"type": "null"}]}

color_values = ["gray", "red", "orange", "yellow", "green", "blue", "purple", "pink"]

def draft_properties(for_patch):
    opt_null = "`null` is the same as leaving the field out." if not for_patch else None
    p = {
        "name": {
            "type": "string", "minLength": 1, "maxLength": 100,
            "description": "Display name, 1 to 100 characters on one line (no control characters such as "
                           "newlines: rule `no_control_characters`; too long: rule `max_length`). " + TEXT_NOTE,
            "examples": ["Inquiry follow-up - 24 hours"],
        },
        "color": {
            "oneOf": [ref("LabelColor"), {"type": "null"}],
            "description": "Optional label colour from the fixed palette (rule `one_of`). "
                           + ("Omitted or `null`: no colour." if not for_patch else "`null` removes the colour."),
        },
        "delay": {
            "allOf": [ref("Delay")],
            "description": "When the follow-up is due after the customer's last message: `ai` or a manual "
                           "number of minutes or hours. 2 to 6 hours usually works best.",
        },
        "description": {
            "type": "string", "minLength": 1, "maxLength": 2000,
            "description": "Tells the AI judge when and why this follow-up applies (context, activation "
                           "condition, purpose). Up to 2000 characters; newlines and tabs allowed, other "
                           "control characters are not. " + TEXT_NOTE,
        },
        "stop_trigger": {
            "type": "string", "minLength": 1, "maxLength": 1000,
            "description": "When the AI judge must stop all pending follow-ups of the conversation (goal "
                           "reached, customer not interested, escalated). Up to 1000 characters; newlines "
                           "and tabs allowed, other control characters are not. " + TEXT_NOTE,
        },
        "message": {
            "oneOf": [ref("Message"), {"type": "null"}],
            "description": "What text goes out: `ai` (written by the judge) or `custom` (a fixed text). "
                           + ("Omitted or `null`: `ai`." if not for_patch else "To go back to the AI, send "
                              "`{\"mode\": \"ai\"}`."),
        },
        "whatsapp_template": {
            "oneOf": [ref("WhatsAppTemplate"), {"type": "null"}],
            "description": "Optional approved WhatsApp template, used for WhatsApp sends past the 24 h window "
                           "(Meta bills every template send; see the response's `cost`). Without one, a manual "
                           "delay past the window is clamped on WhatsApp too. Errors are reported under "
                           "`whatsapp_template.` "
                           + ("Omitted or `null`: no template." if not for_patch else "`null` removes the template.")
                           + " When this request sets the template or changes it (its name, language or "
                           "parameters), it must match the chatbot's WhatsApp template catalogue (see `GET "
                           "/v1/chatbots/{chatbot_id}/whatsapp-templates`; refresh it first): checked once every "
                           "other rule passed, the first mismatch is a 422 under `whatsapp_template`: `name` "
                           "with rule `template_not_found` (no template of that name in the catalogue), "
                           "`language` with `template_language_not_found` (not in that language; the message "
                           "lists the languages it exists in), `name` with `template_not_approved` (its status "
                           "is neither APPROVED nor FLAGGED), `name` with `template_unsupported` (a follow-up "
                           "cannot fill it: a media or location header, a header placeholder, a URL button with "
                           "a placeholder, a button that needs a value at send time, or named placeholders), "
                           "`parameters` with `template_parameter_count` (the number of `parameters` must "
                           "equal the template's body placeholders, its `body_parameter_count`). A template "
                           "the request leaves as it is is not checked again, so a template Meta paused since "
                           "does not block other changes; the response warns about it instead.",
        },
        "active": {
            "type": ["boolean", "null"],
            "description": (
                "On/off without deleting. At most 5 follow-ups per chatbot may be active (409 otherwise). "
                "On create, omitted or `null` means `true` (so it counts against the limit); on a full "
                "replace (PUT), omitted or `null` keeps the current state.") if not for_patch else (
                "`true` activates (subject to the 5-active limit, 409), `false` deactivates."),
        },
    }
    if for_patch:
        # Only `color` and `whatsapp_template` can be cleared; `null` anywhere else is refused.
        p["message"] = {"allOf": [ref("Message")], "description": p["message"]["description"]}
        p["active"]["type"] = "boolean"
        for k in ["name", "delay", "description", "stop_trigger", "message", "active"]:
            p[k]["description"] += " Cannot be cleared: `null` is refused (422, rule `not_nullable`)."
    return p

schemas = {
    "LabelColor": {
        "type": "string", "enum": color_values,
        "description": "A label colour from the fixed palette; lists filter by it.",
    },
    "FollowUpRequest": {
        "type": "object",
        "title": "Follow-up configuration (create or full replace)",
        "description": "A follow-up's whole configuration, for POST (create) and PUT (full replace). Every "
                       "rule is checked and every broken rule is reported at once (422). Fields that are not "
                       "listed here are refused (rule `unknown_field`): in particular the read-only fields of "
                       "a `FollowUp` response (`id`, `chatbot_id`, `revision`, `created_at`, `updated_at`, "
                       "`effective_delays`, `warnings`, `cost`) must not be sent back.",
        "required": ["name", "delay", "description", "stop_trigger"],
        "additionalProperties": False,
        "properties": draft_properties(False),
    },
    "FollowUpPatch": {
        "type": "object",
        "title": "Partial update of a follow-up's configuration",
        "description": "A top-level partial update, not an RFC 7396 JSON merge patch: any subset of the "
                       "top-level fields of `FollowUpRequest`. Each field sent replaces that field as a whole "
                       "(nested objects such as `delay`, `message` and `whatsapp_template` are replaced, not "
                       "merged: send them complete); fields not sent stay as they are. Only `color` and "
                       "`whatsapp_template` may be `null`, which clears them; `null` on any other field "
                       "(`name`, `delay`, `description`, `stop_trigger`, `message`, `active`, or a name that "
                       "is not part of the API) is refused with 422, one error per such field with rule "
                       "`not_nullable` and the top-level field name. The result must be a valid "
                       "configuration, checked with the same rules as a full replace (422 otherwise). "
                       "Unknown fields are refused (rule `unknown_field`). An empty object `{}`, or any patch "
                       "that leaves the configuration as it is, changes nothing.",
        "additionalProperties": False,
        "properties": draft_properties(True),
        "examples": [{"name": "Appointment reminder - 3 hours", "delay": {"mode": "manual", "hours": 3}},
                     {"color": None, "whatsapp_template": None}],
    },
    "Delay": {
        "description": "When the follow-up is due after the customer's last message. 2 to 6 hours usually "
                       "works best. Responses always give a manual delay in `minutes`, also when it was "
                       "sent in `hours`.",
        "oneOf": [ref("AiDelay"), ref("ManualDelay")],
        "discriminator": {"propertyName": "mode",
                          "mapping": {"ai": "#/components/schemas/AiDelay",
                                      "manual": "#/components/schemas/ManualDelay"}},
    },
    "AiDelay": {
        "type": "object",
        "description": "The AI judge picks the moment from the conversation, inside the 24 h window. Takes no "
                       "`minutes` or `hours` (rule `ai_delay_has_no_duration`, field `delay`).",
        "required": ["mode"],
        "additionalProperties": False,
        "properties": {"mode": {"type": "string", "const": "ai"}},
    },
    "ManualDelay": {
        "type": "object",
        "description": "A fixed delay: exactly one of `minutes` (1 to 43200, i.e. 30 days) or `hours` (1 to "
                       "720), whole numbers. Neither: rule `required` on `delay.minutes`; both: rule "
                       "`one_of_minutes_or_hours` on `delay`; out of range: rule `range`. A delay past the "
                       "24 h window (minus the safety margin) is clamped on Instagram and Messenger, and on "
                       "WhatsApp when no template is set; the save still succeeds and the response says so in "
                       "`effective_delays` and `warnings`.",
        "required": ["mode"],
        "additionalProperties": False,
        "properties": {
            "mode": {"type": "string", "const": "manual"},
            "minutes": {"type": "integer", "minimum": 1, "maximum": 43200,
                        "description": "Delay in minutes, 1 to 43200 (30 days).", "examples": [240]},
            "hours": {"type": "integer", "minimum": 1, "maximum": 720,
                      "description": "Delay in hours, 1 to 720 (30 days); stored as minutes. Request only.",
                      "examples": [4]},
        },
        "oneOf": [{"required": ["minutes"]}, {"required": ["hours"]}],
    },
    "Message": {
        "description": "What text goes out. Free-form text (either mode) only ever goes out inside the 24 h "
                       "window; past it, WhatsApp sends the template instead.",
        "oneOf": [ref("AiMessage"), ref("CustomMessage")],
        "discriminator": {"propertyName": "mode",
                          "mapping": {"ai": "#/components/schemas/AiMessage",
                                      "custom": "#/components/schemas/CustomMessage"}},
    },
    "AiMessage": {
        "type": "object",
        "description": "Written by the AI judge from the description and the conversation. Takes no `text` "
                       "(rule `ai_message_has_no_text`).",
        "required": ["mode"],
        "additionalProperties": False,
        "properties": {"mode": {"type": "string", "const": "ai"}},
    },
    "CustomMessage": {
        "type": "object",
        "description": "The same fixed text for every customer.",
        "required": ["mode", "text"],
        "additionalProperties": False,
        "properties": {
            "mode": {"type": "string", "const": "custom"},
            "text": {"type": "string", "minLength": 1, "maxLength": 1000,
                     "description": "Up to 1000 characters (Instagram's limit, the smallest of the three "
                                    "platforms); newlines and tabs allowed, other control characters are "
                                    "not. " + TEXT_NOTE},
        },
    },
    "WhatsAppTemplate": {
        "type": "object",
        "description": "A Meta-approved WhatsApp template, sent on WhatsApp past the 24 h window, named by "
                       "name and language as in the chatbot's template catalogue (`CatalogueTemplate`). "
                       "Setting or changing it checks it against the catalogue; before each template send "
                       "the catalogue is consulted again, and a template that is no longer APPROVED or "
                       "FLAGGED (or no longer listed) is not sent. Responses always include `parameters` "
                       "(possibly empty).",
        "required": ["name", "language"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": "^[a-z0-9_]+$",
                     "description": "The template's name as approved: 1 to 512 lowercase letters, digits "
                                    "and underscores (rule `template_name`). Not trimmed.",
                     "examples": ["purchase_confirmation"]},
            "language": {"type": "string", "pattern": "^[a-z]{2,3}(_[A-Z0-9]{2,4})?$",
                         "description": "The template's language code as Meta spells it (rule `language_code`).",
                         "examples": ["en", "en_US", "pt_BR", "es_419"]},
            "parameters": {"type": "array", "maxItems": 20, "items": ref("TemplateParameter"),
                           "description": "The body placeholders `{{1}}`, `{{2}}`, … in order; at most 20 "
                                          "(rule `max_items`). Omitted: none.",
                           "default": []},
        },
    },
    "TemplateParameter": {
        "description": "One body placeholder of the template.",
        "oneOf": [ref("TextTemplateParameter"), ref("ProfileNameTemplateParameter")],
        "discriminator": {"propertyName": "type",
                          "mapping": {"text": "#/components/schemas/TextTemplateParameter",
                                      "profile_name": "#/components/schemas/ProfileNameTemplateParameter"}},
    },
    "TextTemplateParameter": {
        "type": "object",
        "description": "The same text for every customer.",
        "required": ["type", "text"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "const": "text"},
            "text": {"type": "string", "minLength": 1, "maxLength": 1024,
                     "description": "Up to 1024 characters on one line (no newlines, tabs or other control "
                                    "characters), and no more than three spaces in a row (rule "
                                    "`no_long_space_runs`): WhatsApp rejects those. " + TEXT_NOTE},
        },
    },
    "ProfileNameTemplateParameter": {
        "type": "object",
        "description": "The customer's profile name as the platform reports it. Takes no `text` (rule "
                       "`profile_name_has_no_text`).",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {"type": {"type": "string", "const": "profile_name"}},
    },
    "Platform": {"type": "string", "enum": ["whatsapp", "messenger", "instagram"]},
    "DelayPlan": {
        "type": "object",
        "description": "For a manual delay, what it really becomes on one platform.",
        "required": ["platform", "requested_minutes", "effective_minutes", "clamped", "send_as"],
        "properties": {
            "platform": ref("Platform"),
            "requested_minutes": {"type": "integer", "minimum": 1, "maximum": 43200},
            "effective_minutes": {"type": "integer", "minimum": 1, "maximum": 43200,
                                  "description": "The delay the follow-up really gets on this platform."},
            "clamped": {"type": "boolean",
                        "description": "True when the requested delay was shortened to fit the 24 h window "
                                       "(24 h minus the safety margin; 1425 minutes with the default 15-minute "
                                       "margin)."},
            "send_as": {"type": "string", "enum": ["free_form", "template"],
                        "description": "`free_form`: the message text, inside the window. `template`: the "
                                       "WhatsApp template, past the window (WhatsApp with a template only)."},
        },
    },
    "ConfigWarning": {
        "type": "object",
        "description": "A notice about the saved configuration that did not block the save.",
        "required": ["code", "field", "platform", "message"],
        "properties": {
            "code": {"type": "string",
                     "description": "Machine-readable kind: `delay_clamped` (field `delay`): the manual delay "
                                    "is past the 24 h window on this platform and will be shortened; "
                                    "`template_not_approved` (field `whatsapp_template`, platform `whatsapp`): "
                                    "the template catalogue lists the template with a status other than "
                                    "APPROVED or FLAGGED (e.g. PAUSED, DISABLED, REJECTED), so WhatsApp sends "
                                    "past 24 h are skipped until Meta approves it again; "
                                    "`template_not_in_catalogue` (field `whatsapp_template`, platform "
                                    "`whatsapp`): the catalogue does not list the template in that language "
                                    "(deleted at Meta and refreshed since, its account no longer named on a "
                                    "WhatsApp integration, or the catalogue not refreshed yet), so those "
                                    "sends are skipped too. Further codes may be added.",
                     "examples": ["delay_clamped", "template_not_approved", "template_not_in_catalogue"]},
            "field": {"type": "string", "description": "The configuration field concerned.",
                      "examples": ["delay", "whatsapp_template"]},
            "platform": ref("Platform"),
            "message": {"type": "string", "description": "Human-readable explanation, safe to show."},
        },
    },
    "FollowUp": {
        "type": "object",
        "description": "A follow-up as stored: its configuration (the `FollowUpRequest` fields with defaults "
                       "applied, text trimmed, `hours` turned into `minutes`) plus its identity, revision, "
                       "what each platform makes of its delay, and what its sends cost.",
        "required": ["id", "chatbot_id", "name", "color", "delay", "description", "stop_trigger", "message",
                     "whatsapp_template", "active", "revision", "created_at", "updated_at",
                     "effective_delays", "warnings", "cost"],
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
                   "description": "Assigned by the service: `fu_` and 32 hex digits (a UUID v7, sortable by "
                                  "creation time).", "examples": [FU1]},
            "chatbot_id": {"type": "string", "examples": ["dental-clinic"]},
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "color": {"oneOf": [ref("LabelColor"), {"type": "null"}], "description": "`null`: no colour."},
            "delay": ref("Delay"),
            "description": {"type": "string", "minLength": 1, "maxLength": 2000},
            "stop_trigger": {"type": "string", "minLength": 1, "maxLength": 1000},
            "message": ref("Message"),
            "whatsapp_template": {"oneOf": [ref("WhatsAppTemplate"), {"type": "null"}],
                                  "description": "`null`: no template."},
            "active": {"type": "boolean"},
            "revision": {"type": "integer", "minimum": 1,
                         "description": "Starts at 1 and increases by one on every change (a PUT or PATCH "
                                        "that leaves the configuration as it is keeps it); the `ETag` header "
                                        "carries it."},
            "created_at": {"type": "string", "format": "date-time",
                           "examples": ["2026-11-24T05:00:00.123Z"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "effective_delays": {
                "type": "array", "items": ref("DelayPlan"),
                "description": "For a manual delay, one entry per platform (whatsapp, messenger, instagram); "
                               "empty for an `ai` delay, which the judge picks inside the window at send time.",
            },
            "warnings": {
                "type": "array", "items": ref("ConfigWarning"),
                "description": "One `delay_clamped` warning per platform on which the delay will be shortened "
                               "to fit the 24 h window; then, when the follow-up has a WhatsApp template that "
                               "the chatbot's template catalogue does not list as sendable, one "
                               "`template_not_approved` (listed, but not APPROVED or FLAGGED, e.g. PAUSED) or "
                               "`template_not_in_catalogue` (not listed in that language) warning. Computed on "
                               "every read from the current catalogue. Empty when nothing applies.",
            },
            "cost": ref("FollowUpCost"),
        },
    },
    "FollowUpCost": {
        "type": "object",
        "description": "Which of the follow-up's sends Meta bills. Free-form messages inside the 24-hour "
                       "customer service window are free; a follow-up sends its WhatsApp template only past "
                       "that window, where Meta bills every template send, whatever the category (the category "
                       "sets the rate).",
        "required": ["billed_sends", "template_category", "note"],
        "properties": {
            "billed_sends": {"type": "string", "enum": ["none", "whatsapp_template_sends"],
                             "description": "`none`: no WhatsApp template, only free (free-form) sends; "
                                            "`whatsapp_template_sends`: every WhatsApp template send is billed."},
            "template_category": {
                "oneOf": [ref("TemplateCategory"), {"type": "null"}],
                "description": "The template's category as the chatbot's template catalogue knows it; `null` "
                               "without a template, or when the catalogue does not list it (or lists it with "
                               "a category this service does not know).",
            },
            "note": {"type": "string", "description": "One sentence for people, safe to show.",
                     "examples": [COST_FREE_NOTE, COST_TEMPLATE_NOTE]},
        },
    },
    "FollowUpList": {
        "type": "object",
        "required": ["items", "active_count", "active_limit"],
        "properties": {
            "items": {"type": "array", "items": ref("FollowUp"),
                      "description": "The follow-ups that match the filters, oldest first."},
            "active_count": {"type": "integer", "minimum": 0, "maximum": 5,
                             "description": "How many follow-ups of the chatbot are active, whatever the filters."},
            "active_limit": {"type": "integer", "const": 5,
                             "description": "The most follow-ups a chatbot may have active at once."},
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details, sent as `application/problem+json`. Bodies never carry "
                       "internal details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference",
                     "description": "Relative URI naming the kind of problem; stable, for machines.",
                     "enum": ["bad-request", "unauthenticated", "forbidden", "not-found", "no-such-route",
                              "method-not-allowed", "invalid-signature", "verification-failed",
                              "account-taken", "active-limit-reached", "revision-conflict",
                              "no-business-account", "integration-token-rejected",
                              "business-account-not-accessible",
                              "precondition-failed", "payload-too-large", "unsupported-media-type",
                              "validation-failed", "template-rejected", "unavailable", "internal"]},
            "title": {"type": "string", "description": "Short summary of the kind of problem."},
            "status": {"type": "integer", "description": "The HTTP status code, repeated."},
            "detail": {"type": "string", "description": "What happened in this case, for people."},
            "errors": {"type": "array", "items": ref("FieldError"), "minItems": 1,
                       "description": "Only with `validation-failed`: every broken rule, each naming its field; "
                                      "and with `template-rejected`: each of Meta's refusals (rule "
                                      "`meta_rejected`)."},
        },
    },
    "FieldError": {
        "type": "object",
        "description": "One broken rule on one field.",
        "required": ["field", "rule", "message"],
        "properties": {
            "field": {"type": "string",
                      "description": "JSON path of the field in the request, e.g. `name`, `delay.minutes`, "
                                     "`whatsapp_template.parameters[1].text`, `body.examples[0]`, "
                                     "`buttons[1].url`; or the query parameter's name (`color`, `active`, "
                                     "`limit`, `before`, `status`, `category`, `usable`); or `account_id` for "
                                     "the integration path's account id. Empty when the body as a whole has "
                                     "the wrong type, or (`template-rejected`) when Meta did not say which "
                                     "field its refusal is about.",
                      "examples": ["whatsapp_template.parameters[1].text"]},
            "rule": {"type": "string",
                     "description": "Stable, machine-readable name of the rule: `required`, `not_blank`, "
                                    "`max_length`, `no_control_characters`, `one_of`, `range`, "
                                    "`one_of_minutes_or_hours`, `ai_delay_has_no_duration`, "
                                    "`ai_message_has_no_text`, `template_name`, `language_code`, `max_items`, "
                                    "`no_long_space_runs`, `profile_name_has_no_text`, `boolean`, `type` "
                                    "(JSON value of the wrong type), `unknown_field`, `not_nullable` (PATCH: "
                                    "`null` for a field other than `color` or `whatsapp_template`), "
                                    "`meta_id` (integration `account_id`), `token_format` (integration "
                                    "`access_token`), `waba_id` and `whatsapp_only` (integration "
                                    "`whatsapp_business_account_id`), `integer` (log `before`); for a "
                                    "follow-up's template against the catalogue: `template_not_found`, "
                                    "`template_language_not_found`, `template_not_approved`, "
                                    "`template_unsupported`, `template_parameter_count`; for a new WhatsApp "
                                    "template: `unknown_account` and `string` (`waba_id`), "
                                    "`positional_placeholders`, `sequential_placeholders`, "
                                    "`placeholder_at_edge`, `example_count`, `no_placeholders`, `url`, "
                                    "`phone_number`; `meta_rejected` (only with `template-rejected`: Meta "
                                    "refused the template, `message` is Meta's).",
                     "examples": ["max_length"]},
            "message": {"type": "string", "description": "Human-readable explanation, safe to show to an operator."},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "const": "ok"}},
    },
}

# ---------------------------------------------------------------- operations
def r(name):
    return ref(name, "responses")

def follow_up_response(description, status_headers=("ETag",), examples_=None):
    media = {"schema": ref("FollowUp")}
    if examples_:
        media["examples"] = {n: ref(n, "examples") for n in examples_}
    return {"description": description,
            "headers": {h: ref(h, "headers") for h in status_headers},
            "content": {"application/json": media}}

request_examples = {"appointment_reminder": ref("AppointmentReminderRequest", "examples"),
                    "after_sales_check": ref("AfterSalesCheckRequest", "examples")}

def body_of(schema, types, description, examples_=None):
    content = {}
    for t in types:
        media = {"schema": ref(schema)}
        if examples_:
            media["examples"] = examples_
        content[t] = media
    return {"required": True, "description": description, "content": content}

ITEM_PARAMS = [ref("ChatbotId", "parameters"), ref("FollowUpId", "parameters")]
TAG = ["Follow-ups"]

paths = {
    "/v1/health": {
        "get": {
            "tags": ["Service"],
            "operationId": "getHealth",
            "summary": "Health check",
            "description": "Answers 200 while the service is up. No authentication.",
            "security": [],
            "responses": {"200": {"description": "The service is up.",
                                  "content": {"application/json": {"schema": ref("Health"),
                                                                   "example": {"status": "ok"}}}}},
        }
    },
    "/v1/openapi.json": {
        "get": {
            "tags": ["Service"],
            "operationId": "getOpenApiDocument",
            "summary": "This API document",
            "description": "The OpenAPI 3.1 document describing this API (this document). No authentication.",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }
    },
    "/v1/chatbots/{chatbot_id}/follow-ups": {
        "parameters": [ref("ChatbotId", "parameters")],
        "get": {
            "tags": TAG,
            "operationId": "listFollowUps",
            "summary": "List a chatbot's follow-ups",
            "description": "All follow-ups of the chatbot, oldest first, optionally filtered by label colour "
                           "and active state; with how many are active (whatever the filters) and the limit "
                           "of 5, for a \"3 of 5 active\" display. A chatbot without follow-ups gives an empty "
                           "list, not 404.",
            "parameters": [ref("ColorFilter", "parameters"), ref("ActiveFilter", "parameters")],
            "responses": {
                "200": {"description": "The matching follow-ups.",
                        "content": {"application/json": {"schema": ref("FollowUpList"),
                                                         "example": {"items": [appointment_resp, aftersales_resp],
                                                                     "active_count": 2, "active_limit": 5}}}},
                "400": r("BadRequest"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "422": problem_response("`type: validation-failed`: a filter value is invalid (`color` not in "
                                        "the palette: rule `one_of`; `active` not `true`/`false`: rule `boolean`).",
                                        example_names=["BadListFilter"]),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
        "post": {
            "tags": TAG,
            "operationId": "createFollowUp",
            "summary": "Create a follow-up",
            "description": "Creates a follow-up for the chatbot. The id is assigned by the service; the response "
                           "has the stored follow-up, its `ETag` and its `Location`. A missing `active` means "
                           "active, so a sixth follow-up is refused with 409 unless it is created with "
                           "`\"active\": false`. A manual delay past the 24 h window is saved and reported in "
                           "`effective_delays` and `warnings`. 2 to 6 hours is usually the best delay. A "
                           "`whatsapp_template` must be in the chatbot's WhatsApp template catalogue, approved, "
                           "with as many `parameters` as body placeholders (422 otherwise; see "
                           "`whatsapp_template`).",
            "requestBody": body_of("FollowUpRequest", ["application/json"],
                                   "The follow-up's configuration.", request_examples),
            "responses": {
                "201": follow_up_response("Created.", ("ETag", "Location"),
                                          ["AppointmentReminderResponse", "AfterSalesCheckResponse"]),
                "400": r("BadRequest"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "409": r("ActiveLimitReached"),
                "413": r("PayloadTooLarge"),
                "415": r("UnsupportedMediaType"),
                "422": r("ValidationFailed"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}": {
        "parameters": ITEM_PARAMS,
        "get": {
            "tags": TAG,
            "operationId": "getFollowUp",
            "summary": "Get a follow-up",
            "description": "One follow-up of the chatbot, with its effective delays and warnings. The `ETag` "
                           "header carries its revision for a later conditional PUT or PATCH.",
            "responses": {
                "200": follow_up_response("The follow-up.", ("ETag",),
                                          ["AppointmentReminderResponse", "AfterSalesCheckResponse",
                                           "AfterSalesCheckTemplatePausedResponse"]),
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
        "put": {
            "tags": TAG,
            "operationId": "replaceFollowUp",
            "summary": "Replace a follow-up's configuration",
            "description": "Replaces the whole configuration: optional fields left out are cleared (`color`, "
                           "`whatsapp_template`) or reset (`message` to `ai`); a missing `active` keeps the "
                           "current state. With `If-Match`, the replace only happens at that revision (412 "
                           "otherwise). Activating an inactive follow-up this way is subject to the 5-active "
                           "limit (409). A replace whose result is identical to the stored configuration "
                           "changes nothing: 200 with the current follow-up, same `revision` and `updated_at` "
                           "(so repeating a PUT is harmless); `If-Match` is still checked. When the result is inactive "
                           "(`\"active\": false`, or a replace without `active` of an inactive follow-up), "
                           "every pending instance of the follow-up in every conversation is cancelled and "
                           "logged as `cancelled` with reason `follow_up_deactivated`; this runs on every such "
                           "write, a no-op included, so a retry after a 503 finishes the cancellation. A "
                           "`whatsapp_template` that differs from the stored one is checked against the "
                           "chatbot's WhatsApp template catalogue (422 otherwise); an unchanged one is not.",
            "parameters": [ref("IfMatch", "parameters")],
            "requestBody": body_of("FollowUpRequest", ["application/json"],
                                   "The follow-up's new configuration, complete.", request_examples),
            "responses": {
                "200": follow_up_response("Replaced; the response has the new revision, or the unchanged "
                                          "follow-up (same `revision` and `updated_at`) when nothing changed.",
                                          ("ETag",),
                                          ["AppointmentReminderResponse", "AfterSalesCheckResponse"]),
                "400": r("BadRequest"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "409": r("ActiveLimitReached"),
                "412": r("PreconditionFailed"),
                "413": r("PayloadTooLarge"),
                "415": r("UnsupportedMediaType"),
                "422": r("ValidationFailed"),
                "500": r("Internal"),
                "503": r("UnavailableCancelling"),
            },
        },
        "patch": {
            "tags": TAG,
            "operationId": "patchFollowUp",
            "summary": "Change some fields of a follow-up",
            "description": "Top-level partial update (not an RFC 7396 JSON merge patch): each field sent "
                           "replaces that field whole, nested objects (`delay`, `message`, `whatsapp_template`) "
                           "included; fields not sent stay as they are. Only `color` and `whatsapp_template` may "
                           "be `null`, which clears them; `null` on any other field (`name`, `delay`, "
                           "`description`, `stop_trigger`, `message`, `active`) is refused with 422, one error "
                           "per such field with rule `not_nullable`. The result is validated like a full "
                           "replace. A patch whose result is identical to the stored configuration, such as an "
                           "empty `{}`, changes nothing: 200 with the current follow-up, same `revision` and "
                           "`updated_at`. With `If-Match`, the change only happens at that revision (412 "
                           "otherwise, even for a no-op). "
                           "Without it, a change that keeps racing concurrent writes is retried twice and then "
                           "refused with 409 `revision-conflict`. Setting `active` to `true` is subject to the "
                           "5-active limit (409 `active-limit-reached`). When the result is inactive (`\"active\": false`, "
                           "or any patch of an inactive follow-up), every pending instance of the follow-up in "
                           "every conversation is cancelled and logged as `cancelled` with reason "
                           "`follow_up_deactivated`; this runs on every such write, a no-op included, so a "
                           "retry after a 503 finishes the cancellation. A `whatsapp_template` that the patch "
                           "sets or changes is checked against the chatbot's WhatsApp template catalogue (422 "
                           "otherwise); a patch that leaves it as it is does not check it again.",
            "parameters": [ref("IfMatch", "parameters")],
            "requestBody": {
                "required": True,
                "description": "The fields to change, as a JSON object sent as `application/json`. A top-level "
                               "partial update, not an RFC 7396 JSON merge patch: each field sent replaces "
                               "that field whole (nested objects are replaced, not merged); only `color` and "
                               "`whatsapp_template` may be `null` (clears them).",
                "content": {
                    t: {"schema": ref("FollowUpPatch"),
                        "examples": {
                            "rename_and_shorten": {"summary": "New name and a 3-hour delay",
                                                   "value": {"name": "Appointment reminder - 3 hours",
                                                             "delay": {"mode": "manual", "hours": 3}}},
                            "clear_optional": {"summary": "Remove the colour and the template",
                                               "value": {"color": None, "whatsapp_template": None}},
                            "ai_message": {"summary": "Let the AI write the message",
                                           "value": {"message": {"mode": "ai"}}},
                            "no_change": {"summary": "Empty patch: changes nothing (same revision)",
                                          "value": {}},
                        }}
                    for t in ["application/json"]
                },
            },
            "responses": {
                "200": follow_up_response("Changed; the response has the new revision, or the unchanged "
                                          "follow-up (same `revision` and `updated_at`) when nothing changed.",
                                          ("ETag",), ["AppointmentReminderResponse"]),
                "400": r("BadRequest"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "409": problem_response(
                    "`type: active-limit-reached`: the change would make more than 5 follow-ups of this chatbot "
                    "active; or `type: revision-conflict`: without `If-Match`, other writes kept changing the "
                    "follow-up while this one was applied. Nothing was changed.",
                    example_names=["ActiveLimitReached", "RevisionConflict"]),
                "412": r("PreconditionFailed"),
                "413": r("PayloadTooLarge"),
                "415": r("UnsupportedMediaType"),
                "422": r("PatchValidationFailed"),
                "500": r("Internal"),
                "503": r("UnavailableCancelling"),
            },
        },
        "delete": {
            "tags": TAG,
            "operationId": "deleteFollowUp",
            "summary": "Delete a follow-up",
            "description": "Removes the follow-up and its configuration, and cancels its pending instances in "
                           "every conversation, each logged as `cancelled` with reason `follow_up_deleted`. "
                           "Deleting it again is 404; that call still finishes a cancellation an earlier "
                           "DELETE left unfinished (503), so repeating a DELETE after a 503 is the way to "
                           "complete it.",
            "responses": {
                "204": {"description": "Deleted."},
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "500": r("Internal"),
                "503": r("UnavailableCancelling"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/activate": {
        "parameters": ITEM_PARAMS,
        "post": {
            "tags": TAG,
            "operationId": "activateFollowUp",
            "summary": "Activate a follow-up",
            "description": "Turns the follow-up on. Refused with 409 when the chatbot already has 5 active "
                           "follow-ups; nothing changes then. Activating an active follow-up changes nothing "
                           "and keeps its revision. No request body.",
            "responses": {
                "200": follow_up_response("The follow-up, now active.", ("ETag",)),
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "409": r("ActiveLimitReached"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/deactivate": {
        "parameters": ITEM_PARAMS,
        "post": {
            "tags": TAG,
            "operationId": "deactivateFollowUp",
            "summary": "Deactivate a follow-up",
            "description": "Turns the follow-up off without deleting it, and cancels its pending instances in "
                           "every conversation, each logged as `cancelled` with reason `follow_up_deactivated`. "
                           "Deactivating an inactive follow-up changes nothing and keeps its revision, but "
                           "still cancels whatever is pending, so a retry after a 503 finishes the "
                           "cancellation. No request body.",
            "responses": {
                "200": follow_up_response("The follow-up, now inactive.", ("ETag",)),
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "500": r("Internal"),
                "503": r("UnavailableCancelling"),
            },
        },
    },
}

# ================================================================ integrations, conversations, webhook
PHONE_NUMBER_ID = "106540352242922"
PAGE_ID = "1122334455667788"
INSTAGRAM_ID = "17841400000000001"
WA_CUSTOMER = "16315551181"
CONV_ID = f"whatsapp:{PHONE_NUMBER_ID}:{WA_CUSTOMER}"
MSG_CONV_ID = f"messenger:{PAGE_ID}:6543210987654321"
WAMID_1 = "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ4QTREMUVBN0VFQjYzRDRGRjIzMgA="
WAMID_2 = "wamid.HBgLMTYzMTU1NTExODEVAgASGBQzRUIwQzQ1RjI5QjhBMjE3NjREOQA="
META_ID_PATTERN = "^[A-Za-z0-9._-]{1,128}$"
WABA_ID = "102290129340398"  # the WhatsApp Business Account of PHONE_NUMBER_ID (entry[].id on WhatsApp webhooks)
WABA_ID_PATTERN = "^[0-9]{1,32}$"

# ---------------------------------------------------------------- examples
whatsapp_text_delivery = {
    "object": "whatsapp_business_account",
    "entry": [{
        "id": "102290129340398",
        "changes": [{
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": WA_CUSTOMER}],
                "messages": [{
                    "from": WA_CUSTOMER,
                    "id": WAMID_1,
                    "timestamp": "1795507200",
                    "type": "text",
                    "text": {"body": "Hi! Can I book a cleaning next week?"},
                }],
            },
        }],
    }],
}
messenger_text_delivery = {
    "object": "page",
    "entry": [{
        "id": PAGE_ID,
        "time": 1795507200412,
        "messaging": [{
            "sender": {"id": "6543210987654321"},
            "recipient": {"id": PAGE_ID},
            "timestamp": 1795507200000,
            "message": {"mid": "m_hMH3dKolsxwWUg6tiyM6SyGdm4sPUg-XlSD38ToL7EStZ0h-E5lf67pzbAYkDF6Okgadi20rZKfumOjcsfPN-V",
                        "text": "Hi! Do you have a free slot on Tuesday?"},
        }],
    }],
}
instagram_text_delivery = {
    "object": "instagram",
    "entry": [{
        "id": INSTAGRAM_ID,
        "time": 1795507200508,
        "messaging": [{
            "sender": {"id": "5566778899001122"},
            "recipient": {"id": INSTAGRAM_ID},
            "timestamp": 1795507200000,
            "message": {"mid": "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAx",
                        "text": "hey! how much is a whitening session?"},
        }],
    }],
}

# The worked log: a WhatsApp customer writes at 08:00 (Meta's timestamp 1795507200), both
# follow-ups of the worked examples are scheduled; the 4-hour reminder is sent at 12:00;
# the customer replies at 13:05, which cancels what was still pending (the after-sales check)
# and schedules both again from the reply.
DLV1 = "dlv_0193b7a1c0e07c4d8a2b3c4d5e6f7a81"
DLV2 = "dlv_0193b8c6f4a87e1f9b3c4d5e6f7a8b92"
DLV3 = "dlv_0193b5f9a1c27a3b8c4d5e6f7a8b9c03"
DLV4 = "dlv_0193b81e22d07f6a9d5e6f7a8b9c0d14"
FU3 = "fu_0193b5e4c1d27e3f8a9b0c1d2e3f4a52"
DELIVERY_ID_PATTERN = "^dlv_[0-9a-f]{32}$"
for _d in (DLV1, DLV2, DLV3, DLV4):
    assert len(_d) == 36
assert len(FU3) == 35
def sched(seq, at, fid, period, due, minutes, send_as):
    return {"kind": "scheduled", "follow_up_id": fid, "silence_period": period, "due_at": due,
            "requested_minutes": minutes, "effective_minutes": minutes, "clamped": False,
            "send_as": send_as, "seq": seq, "at": at}

log_oldest_first = [
    {"kind": "customer_message", "message_id": WAMID_1, "message_kind": "text",
     "sent_at": "2026-11-24T08:00:00Z", "silence_period": 1, "seq": 1, "at": "2026-11-24T08:00:01.234Z"},
    sched(2, "2026-11-24T08:00:01.251Z", FU1, 1, "2026-11-24T12:00:00Z", 240, "free_form"),
    sched(3, "2026-11-24T08:00:01.251Z", FU2, 1, "2026-11-25T08:00:00Z", 1440, "template"),
    {"kind": "sent", "follow_up_id": FU1, "silence_period": 1, "delivery_id": DLV1, "sent_as": "text",
     "seq": 4, "at": "2026-11-24T12:00:01.907Z"},
    {"kind": "customer_message", "message_id": WAMID_2, "message_kind": "text",
     "sent_at": "2026-11-24T13:05:00Z", "silence_period": 2, "seq": 5, "at": "2026-11-24T13:05:00.912Z"},
    {"kind": "cancelled", "follow_up_id": FU2, "silence_period": 1, "reason": "customer_replied",
     "seq": 6, "at": "2026-11-24T13:05:00.931Z"},
    sched(7, "2026-11-24T13:05:00.931Z", FU1, 2, "2026-11-24T17:05:00Z", 240, "free_form"),
    sched(8, "2026-11-24T13:05:00.931Z", FU2, 2, "2026-11-25T13:05:00Z", 1440, "template"),
]
log_newest_first = list(reversed(log_oldest_first))
assert [e["seq"] for e in log_newest_first] == list(range(8, 0, -1))

conversation_wa = {
    "id": CONV_ID, "platform": "whatsapp", "business_account_id": PHONE_NUMBER_ID,
    "customer_id": WA_CUSTOMER, "last_customer_message_at": "2026-11-24T13:05:00Z", "silence_period": 2,
}
conversation_msg = {
    "id": MSG_CONV_ID, "platform": "messenger", "business_account_id": PAGE_ID,
    "customer_id": "6543210987654321", "last_customer_message_at": "2026-11-24T09:41:27.512Z",
    "silence_period": 1,
}
integration_wa = {"platform": "whatsapp", "account_id": PHONE_NUMBER_ID, "whatsapp_business_account_id": WABA_ID,
                  "has_access_token": True,
                  "created_at": "2026-11-24T04:58:12.004Z", "updated_at": "2026-11-24T04:58:12.004Z"}
integration_ig = {"platform": "instagram", "account_id": INSTAGRAM_ID, "whatsapp_business_account_id": None,
                  "has_access_token": True,
                  "created_at": "2026-11-24T04:59:40.771Z", "updated_at": "2026-11-26T10:15:03.118Z"}

examples.update({
    "WhatsAppTextDelivery": {
        "summary": "WhatsApp: a customer's text message",
        "description": "`object: whatsapp_business_account`. The business account is "
                       "`metadata.phone_number_id` (the integration's `account_id`), the customer is "
                       "`messages[].from` (else the business-scoped user id), the time is "
                       "`messages[].timestamp` (seconds, as a string).",
        "value": whatsapp_text_delivery,
    },
    "MessengerTextDelivery": {
        "summary": "Messenger: a customer's text message",
        "description": "`object: page`. The business account is the page id (`recipient.id`), the "
                       "customer is the PSID (`sender.id`), the time is `timestamp` (milliseconds).",
        "value": messenger_text_delivery,
    },
    "InstagramTextDelivery": {
        "summary": "Instagram: a customer's text message",
        "description": "`object: instagram`. The business account is the Instagram professional account "
                       "id (`recipient.id`), the customer is the IGSID (`sender.id`).",
        "value": instagram_text_delivery,
    },
    "IntegrationValidationFailed": {
        "summary": "An account id and a token that break their rules",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "2 field(s) broke a rule; nothing was changed.",
            "errors": [
                {"field": "account_id", "rule": "meta_id",
                 "message": "must be 1 to 128 characters of letters, digits, '.', '_' or '-'"},
                {"field": "access_token", "rule": "token_format",
                 "message": "must be 1 to 2048 characters without whitespace"},
            ],
        },
    },
    "MissingAccessToken": {
        "summary": "No `access_token` in the body",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [{"field": "access_token", "rule": "required", "message": "this field is required"}],
        },
    },
    "IntegrationWabaInvalid": {
        "summary": "A WhatsApp business account id that is not 1 to 32 digits (e.g. `\"waba-1\"`)",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [{"field": "whatsapp_business_account_id", "rule": "waba_id",
                        "message": "must be the numeric WhatsApp Business Account id (1 to 32 digits)"}],
        },
    },
    "IntegrationWabaNotWhatsApp": {
        "summary": "A business account id on a Messenger or Instagram integration",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [{"field": "whatsapp_business_account_id", "rule": "whatsapp_only",
                        "message": "only WhatsApp integrations have a business account (templates exist only "
                                   "on WhatsApp)"}],
        },
    },
    "IntegrationUnknownField": {
        "summary": "A field other than `access_token` and `whatsapp_business_account_id`",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [{"field": "token", "rule": "unknown_field", "message": "this field is not part of the API"}],
        },
    },
    "BadPageLimit": {
        "summary": "`limit` out of range",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [{"field": "limit", "rule": "range", "message": "must be between 1 and 200"}],
        },
    },
    "BadLogCursor": {
        "summary": "`before` is not a sequence number",
        "value": {
            "type": "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "1 field(s) broke a rule; nothing was changed.",
            "errors": [{"field": "before", "rule": "integer", "message": "must be a log sequence number"}],
        },
    },
    "AccountTaken": {
        "summary": "The WhatsApp number is connected to another chatbot",
        "value": {
            "type": "account-taken",
            "title": "Account connected to another chatbot",
            "status": 409,
            "detail": "This platform account is already connected to another chatbot; remove it there first.",
        },
    },
    "ConversationLog": {
        "summary": "A whole log, newest first: a message, two follow-ups scheduled, one sent, a reply",
        "description": "Read from the bottom up. 08:00: the customer writes (silence period 1); both active "
                       "follow-ups are scheduled from Meta's timestamp: the 4-hour reminder as free-form text, "
                       "the 24-hour after-sales check as the WhatsApp template (past the window). 12:00: the "
                       "reminder comes due, passes the checks and the judge, and is sent as text. 13:05: the "
                       "customer replies (period 2), which also counts as the reply to that delivery: what was still pending "
                       "(the after-sales check of period 1) is cancelled with reason `customer_replied`, and "
                       "both follow-ups are scheduled again from the reply. The last page: no `next_before`.",
        "value": {"entries": log_newest_first},
    },
    "ConversationLogFirstPage": {
        "summary": "The same log read 3 entries at a time (`?limit=3`): the newest page",
        "description": "The two schedules and the cancellation that the reply at 13:05 caused; the reply's "
                       "own `customer_message` entry is on the next page. Pass `next_before` (6) as `before` "
                       "for it.",
        "value": {"entries": log_newest_first[:3], "next_before": 6},
    },
    "ConversationLogNextPage": {
        "summary": "The next page (`?limit=3&before=6`)",
        "value": {"entries": log_newest_first[3:6], "next_before": 3},
    },
})

# ---------------------------------------------------------------- sending examples
MSG_CUSTOMER = "6543210987654321"
IG_CONV_ID = f"instagram:{INSTAGRAM_ID}:5566778899001122"
outcomes_oldest_first = [
    {"kind": "customer_message", "message_id": messenger_text_delivery["entry"][0]["messaging"][0]["message"]["mid"],
     "message_kind": "text", "sent_at": "2026-11-24T09:41:27.512Z", "silence_period": 1,
     "seq": 12, "at": "2026-11-24T09:41:28.104Z"},
    {"kind": "scheduled", "follow_up_id": FU3, "silence_period": 1, "due_at": "2026-11-24T11:41:27.512Z",
     "requested_minutes": None, "effective_minutes": 120, "clamped": False, "send_as": "free_form",
     "seq": 14, "at": "2026-11-24T09:41:28.117Z"},
    {"kind": "scheduled", "follow_up_id": FU2, "silence_period": 1, "due_at": "2026-11-25T09:26:27.512Z",
     "requested_minutes": 1440, "effective_minutes": 1425, "clamped": True, "send_as": "free_form",
     "seq": 15, "at": "2026-11-24T09:41:28.117Z"},
    {"kind": "waiting", "follow_up_id": FU3, "silence_period": 1, "until": "2026-11-24T13:41:27.512Z",
     "seq": 31, "at": "2026-11-24T11:41:29.640Z"},
    {"kind": "sent", "follow_up_id": FU3, "silence_period": 1, "delivery_id": DLV3, "sent_as": "text",
     "seq": 38, "at": "2026-11-24T13:41:30.221Z"},
    {"kind": "skipped", "follow_up_id": FU2, "silence_period": 1, "reason": "description_does_not_apply",
     "seq": 57, "at": "2026-11-25T09:26:29.002Z"},
]

whatsapp_status_delivery = {
    "object": "whatsapp_business_account",
    "entry": [{
        "id": "102290129340398",
        "changes": [{
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                "statuses": [{
                    "id": "wamid.HBgLMTYzMTU1NTExODEVAgARGBI0QTdGMkU5QjFDMDM4RDVFNkEA",
                    "status": "read",
                    "timestamp": "1795522440",
                    "recipient_id": WA_CUSTOMER,
                    "biz_opaque_callback_data": DLV1,
                }],
            },
        }],
    }],
}

delivery_items = [
    {"id": DLV2, "conversation_id": CONV_ID, "platform": "whatsapp", "customer_id": WA_CUSTOMER,
     "silence_period": 2, "status": "delivered", "sent_as": "text", "template_name": None, "billed": False,
     "platform_message_id": "wamid.HBgLMTYzMTU1NTExODEVAgARGBI1QjU4RjE2QzQ3RDg0NjQ2QzAA", "detail": None,
     "created_at": "2026-11-24T17:05:00.412Z", "sent_at": "2026-11-24T17:05:01.690Z", "replied_at": None},
    {"id": DLV4, "conversation_id": IG_CONV_ID, "platform": "instagram", "customer_id": "5566778899001122",
     "silence_period": 1, "status": "failed", "sent_as": "text", "template_name": None, "billed": False,
     "platform_message_id": None, "detail": "the access token was rejected",
     "created_at": "2026-11-24T16:12:40.031Z", "sent_at": None, "replied_at": None},
    {"id": DLV1, "conversation_id": CONV_ID, "platform": "whatsapp", "customer_id": WA_CUSTOMER,
     "silence_period": 1, "status": "read", "sent_as": "text", "template_name": None, "billed": False,
     "platform_message_id": "wamid.HBgLMTYzMTU1NTExODEVAgARGBI0QTdGMkU5QjFDMDM4RDVFNkEA", "detail": None,
     "created_at": "2026-11-24T12:00:00.318Z", "sent_at": "2026-11-24T12:00:01.905Z",
     "replied_at": "2026-11-24T13:05:00Z"},
]

stats_fu1 = {
    "follow_up_id": FU1, "scheduled": 42,
    "cancelled": {"customer_replied": 9, "follow_up_deactivated": 1, "stop_trigger_met": 2},
    "dropped": {"already_sent": 1},
    "skipped": {"description_does_not_apply": 4, "judge_failed": 1, "window_closed": 2},
    "stopped": 1, "sent": 20, "failed": 1, "outcome_unknown": 0, "replied": 7, "reply_rate": 0.35,
}
assert stats_fu1["replied"] / stats_fu1["sent"] == stats_fu1["reply_rate"]
# The after-sales check in the example logs: cancelled by the WhatsApp reply, skipped on
# Messenger, pending again on WhatsApp; never sent.
stats_fu2 = {
    "follow_up_id": FU2, "scheduled": 3, "cancelled": {"customer_replied": 1}, "dropped": {},
    "skipped": {"description_does_not_apply": 1}, "stopped": 0, "sent": 0, "failed": 0,
    "outcome_unknown": 0, "replied": 0, "reply_rate": None,
}

examples.update({
    "ConversationLogSendOutcomes": {
        "summary": "A Messenger log: an `ai` delay waits and is sent, a follow-up is skipped",
        "description": "Read from the bottom up. 09:41: the customer writes; an `ai`-delay follow-up is "
                       "scheduled for its first check after 120 minutes, and the 24-hour after-sales check is "
                       "clamped to 1425 minutes (Messenger has no templates). 11:41: the judge asks to check "
                       "again at 13:41. 13:41: the judge writes the text and it is sent. The next "
                       "day the after-sales check comes due and the judge finds its description does not "
                       "apply: skipped.",
        "value": {"entries": list(reversed(outcomes_oldest_first))},
    },
    "WhatsAppStatusDelivery": {
        "summary": "WhatsApp: a status for one of our follow-ups",
        "description": "`value.statuses[]`. `biz_opaque_callback_data` carries the delivery id the service "
                       "set on the send, so the delivery moves to `read`. Statuses of other messages (no "
                       "delivery id of this chatbot) are acknowledged and ignored.",
        "value": whatsapp_status_delivery,
    },
    "FollowUpDeliveries": {
        "summary": "The three newest deliveries of the appointment reminder (`?limit=3`)",
        "description": "Newest first: a text delivered to the WhatsApp customer; an Instagram send Meta "
                       "refused because the page token was rejected; and the 12:00 reminder of the worked "
                       "log, read and answered at 13:05.",
        "value": {"items": delivery_items},
    },
    "FollowUpStats": {
        "summary": "The appointment reminder's counts: 20 sent, 7 answered within 24 h",
        "value": stats_fu1,
    },
    "FollowUpStatsNoSends": {
        "summary": "The after-sales check, never sent yet: `reply_rate` is null",
        "value": stats_fu2,
    },
})

# ---------------------------------------------------------------- responses
responses.update({
    "BadPathOrQuery": problem_response(
        "Malformed request (`type: bad-request`): the query string could not be parsed (e.g. a parameter "
        "given twice), or a path parameter does not decode to valid UTF-8. `detail` says which.",
        single_example={"type": "bad-request", "title": "Malformed request", "status": 400,
                        "detail": "malformed query string"}),
    "BadIntegrationRequest": problem_response(
        "Malformed request (`type: bad-request`): the body is not valid JSON or could not be read, or a path "
        "parameter does not decode to valid UTF-8. `detail` says which.",
        single_example={"type": "bad-request", "title": "Malformed request", "status": 400,
                        "detail": "body is not valid JSON: EOF while parsing an object at line 1 column 1"}),
    "IntegrationNotFound": problem_response(
        "`type: not-found`: the chatbot id is not a valid id, `platform` is not `whatsapp`, `messenger` or "
        "`instagram`, or (DELETE) this chatbot has no integration for this account.",
        single_example=NOT_FOUND_EXAMPLE),
    "ConversationNotFound": problem_response(
        "`type: not-found`: the chatbot id or the conversation id is not a valid id, or this chatbot has no "
        "such conversation (a conversation exists once a webhook event for it arrived on an account the "
        "chatbot has connected; one of another chatbot is never shown).",
        single_example=NOT_FOUND_EXAMPLE),
    "ChatbotNotFound": problem_response(
        "`type: not-found`: the chatbot id is not a valid id. A valid id the service has no data for is not "
        "404: its list is empty.",
        single_example=NOT_FOUND_EXAMPLE),
    "PageValidationFailed": problem_response(
        "`type: validation-failed`: `limit` is not a whole number from 1 to 200 (rule `range`) or `before` is "
        "not a non-negative whole number (rule `integer`). One error is reported at a time, `limit` first.",
        example_names=["BadPageLimit", "BadLogCursor"]),
})

# ---------------------------------------------------------------- parameters
parameters.update({
    "PlatformPath": {
        "name": "platform", "in": "path", "required": True,
        "description": "`whatsapp`, `messenger` or `instagram`, lowercase. Any other value is 404.",
        "schema": ref("Platform"),
    },
    "AccountId": {
        "name": "account_id", "in": "path", "required": True,
        "description": "The platform account the webhooks arrive for: the WhatsApp phone number id "
                       "(`metadata.phone_number_id`, not the WhatsApp Business Account id), the Facebook page "
                       "id, or the Instagram professional account id. 1 to 128 letters, digits, `.`, `_` or "
                       "`-`; on PUT, another form is 422 (field `account_id`, rule `meta_id`), on DELETE 404.",
        "schema": {"type": "string", "pattern": META_ID_PATTERN, "examples": [PHONE_NUMBER_ID]},
    },
    "ConversationId": {
        "name": "conversation_id", "in": "path", "required": True,
        "description": "`{platform}:{business account id}:{customer id}` as listed, e.g. "
                       f"`{CONV_ID}`. The `:` may be sent as is or as `%3A`. Another form is 404.",
        "schema": {"type": "string",
                   "pattern": "^(whatsapp|messenger|instagram):[A-Za-z0-9._-]{1,128}:[A-Za-z0-9._-]{1,128}$",
                   "examples": [CONV_ID]},
    },
    "PageLimit": {
        "name": "limit", "in": "query", "required": False,
        "description": "How many to return, 1 to 200; default 50. Anything else is 422 (field `limit`, rule "
                       "`range`).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    "LogBefore": {
        "name": "before", "in": "query", "required": False,
        "description": "Cursor: only entries with a `seq` below this one. Pass the previous page's "
                       "`next_before`; omitted: the newest entries. Not a non-negative whole number: 422 "
                       "(field `before`, rule `integer`).",
        "schema": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615},
    },
    "HubSignature": {
        "name": "X-Hub-Signature-256", "in": "header", "required": True,
        "description": "Meta's signature: `sha256=` and the HMAC-SHA256 of the raw request body, keyed by "
                       "the Meta app secret (`FOLLOWUP_META_APP_SECRET`), as 64 hex digits (either case). "
                       "Checked on the bytes as received, before the body is parsed; missing, malformed or "
                       "not matching: 401 `invalid-signature` and nothing is recorded.",
        "schema": {"type": "string", "pattern": "^sha256=[0-9A-Fa-f]{64}$",
                   "examples": ["sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"]},
    },
    "HubMode": {
        "name": "hub.mode", "in": "query", "required": True,
        "description": "Always `subscribe`; anything else (or missing) is 403.",
        "schema": {"type": "string", "const": "subscribe"},
    },
    "HubVerifyToken": {
        "name": "hub.verify_token", "in": "query", "required": True,
        "description": "The verify token entered in the Meta app's webhook settings; must equal the "
                       "service's (`FOLLOWUP_META_VERIFY_TOKEN`), else 403. Compared in constant time.",
        "schema": {"type": "string"},
    },
    "HubChallenge": {
        "name": "hub.challenge", "in": "query", "required": True,
        "description": "A value chosen by Meta, echoed back as the response body. Missing, or longer than "
                       "256 bytes: 403.",
        "schema": {"type": "string", "maxLength": 256, "examples": ["1158201444"]},
    },
})

# ---------------------------------------------------------------- schemas
def date_time(description=None, example=None):
    s = {"type": "string", "format": "date-time"}
    if description:
        s["description"] = description
    if example:
        s["examples"] = [example]
    return s

FOLLOW_UP_ID_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "examples": [FU1]}
PERIOD_SCHEMA = {"type": "integer", "minimum": 1,
                 "description": "The conversation's silence period the entry belongs to: 1 from the first "
                                "customer message, one more with every newer customer message."}

# Every `kind` the service writes (LogEvent in shared/domain/src/log.rs), and its schema's name.
LOG_KINDS = {
    "customer_message": "CustomerMessage",
    "scheduled": "Scheduled",
    "cancelled": "Cancelled",
    "dropped": "Dropped",
    "skipped": "Skipped",
    "waiting": "Waiting",
    "stopped": "Stopped",
    "sent": "Sent",
    "failed": "Failed",
    "outcome_unknown": "OutcomeUnknown",
}
DELIVERY_ID_SCHEMA = {"type": "string", "pattern": DELIVERY_ID_PATTERN,
                      "description": "The delivery (see the follow-up's `deliveries`): `dlv_` and 32 hex "
                                     "digits.",
                      "examples": [DLV1]}

def log_entry(kind, description, required, properties):
    return {
        "type": "object",
        "description": description,
        "required": ["kind", "seq", "at"] + required,
        "properties": {
            "kind": {"type": "string", "const": kind},
            **properties,
            "seq": {"type": "integer", "minimum": 1,
                    "description": "Position in the service's log, increasing with every entry written; the "
                                   "cursor for `before`. Not contiguous within one conversation."},
            "at": date_time("When the service wrote the entry (for `customer_message`: when the webhook "
                            "arrived)."),
        },
    }

schemas.update({
    "Integration": {
        "type": "object",
        "description": "A platform account connected to a chatbot: webhooks for it are routed to the chatbot, "
                       "and its access token sends through it. The token is write-only: never returned, "
                       "never logged.",
        "required": ["platform", "account_id", "whatsapp_business_account_id", "has_access_token", "created_at",
                     "updated_at"],
        "properties": {
            "platform": ref("Platform"),
            "account_id": {"type": "string", "pattern": META_ID_PATTERN,
                           "description": "WhatsApp phone number id, Facebook page id or Instagram "
                                          "professional account id.",
                           "examples": [PHONE_NUMBER_ID]},
            "whatsapp_business_account_id": {
                "oneOf": [{"type": "string", "pattern": WABA_ID_PATTERN}, {"type": "null"}],
                "description": "WhatsApp only: the WhatsApp Business Account (WABA) that owns the number and "
                               "its message templates. The chatbot's template catalogue covers the accounts "
                               "named here, read with this integration's token. `null`: none named (always "
                               "for Messenger and Instagram).",
                "examples": [WABA_ID],
            },
            "has_access_token": {"type": "boolean",
                                 "description": "Whether a token is stored (always `true`: one is required). "
                                                "The token itself is never shown."},
            "created_at": date_time(example="2026-11-24T04:58:12.004Z"),
            "updated_at": date_time("Changes when the token is replaced."),
        },
    },
    "IntegrationList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref("Integration"),
                                 "description": "The chatbot's integrations, by platform then account id."}},
    },
    "IntegrationRequest": {
        "type": "object",
        "description": "The account's access token and, for WhatsApp, its business account. Other fields are "
                       "refused (rule `unknown_field`).",
        "required": ["access_token"],
        "additionalProperties": False,
        "properties": {
            "access_token": {
                "type": "string", "minLength": 1, "maxLength": 2048, "writeOnly": True,
                "description": "The platform access token (e.g. a system user token for WhatsApp, a page "
                               "token for Messenger and Instagram). Surrounding whitespace is trimmed; then 1 "
                               "to 2048 bytes without whitespace (rule `token_format`); missing or `null`: "
                               "rule `required`. Stored, never returned, never logged.",
                "examples": ["EAAG-your-whatsapp-token"],
            },
            "whatsapp_business_account_id": {
                "type": ["string", "null"],
                "description": "WhatsApp only: the WhatsApp Business Account (WABA) id that owns the number "
                               "and its message templates (Meta's WhatsApp Manager shows it; it is also "
                               "`entry[].id` of WhatsApp webhooks). The template catalogue lists and creates "
                               "templates of this account with this integration's `access_token`, which needs "
                               "the `whatsapp_business_management` permission. Left out: the stored one is "
                               "kept (so rotating the token keeps it; a new integration has none). `null`: "
                               "cleared. Otherwise, surrounding whitespace trimmed, 1 to 32 digits (rule "
                               "`waba_id`). On a Messenger or Instagram integration any value other than "
                               "`null` is refused (rule `whatsapp_only`).",
                "examples": [WABA_ID],
            },
        },
    },
    "Conversation": {
        "type": "object",
        "description": "One customer talking to one business account on one platform.",
        "required": ["id", "platform", "business_account_id", "customer_id", "last_customer_message_at",
                     "silence_period"],
        "properties": {
            "id": {"type": "string", "description": "`{platform}:{business account id}:{customer id}`.",
                   "examples": [CONV_ID]},
            "platform": ref("Platform"),
            "business_account_id": {"type": "string", "pattern": META_ID_PATTERN,
                                    "description": "The integration's `account_id`.",
                                    "examples": [PHONE_NUMBER_ID]},
            "customer_id": {"type": "string", "pattern": META_ID_PATTERN,
                            "description": "WhatsApp: the `wa_id`, or the business-scoped user id (e.g. "
                                           "`BR.1502576394655843`) when Meta sends no phone number; "
                                           "Messenger: the PSID; Instagram: the IGSID.",
                            "examples": [WA_CUSTOMER]},
            "last_customer_message_at": {
                "oneOf": [date_time(), {"type": "null"}],
                "description": "Meta's timestamp of the customer's newest message; never moves backwards (a "
                               "late, older message does not change it). `null` when only the business's own "
                               "messages (echoes) were seen so far.",
            },
            "silence_period": {"type": "integer", "minimum": 0,
                               "description": "Increases with every customer message newer than the newest "
                                              "one; follow-ups are planned per silence period. 0: no customer "
                                              "message yet."},
        },
    },
    "PendingFollowUp": {
        "type": "object",
        "description": "A follow-up scheduled in this conversation and not settled yet (not sent, skipped, "
                       "dropped, stopped or cancelled); also while it is being judged or sent.",
        "required": ["follow_up_id", "silence_period", "due_at"],
        "properties": {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": {"type": "integer", "minimum": 1},
            "due_at": date_time("When it comes due; after a `waiting` entry, when the judge checks it "
                                "again."),
        },
    },
    "ConversationDetail": {
        "description": "A conversation and the follow-ups pending in it.",
        "allOf": [
            ref("Conversation"),
            {"type": "object", "required": ["pending"],
             "properties": {"pending": {"type": "array", "items": ref("PendingFollowUp"),
                                        "description": "Soonest due first."}}},
        ],
    },
    "ConversationList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref("Conversation"),
                                 "description": "Most recently active first (by "
                                                "`last_customer_message_at`; conversations without a customer "
                                                "message last)."}},
    },
    "LogEntry": {
        "description": "One decision the service took about the conversation, told apart by `kind`. Entries "
                       "hold ids, times and reasons, never message text. Times are RFC 3339 strings in UTC "
                       "(`at`, `sent_at`, `due_at`, `until`).",
        "oneOf": [ref(f"{name}LogEntry") for name in LOG_KINDS.values()],
        "discriminator": {"propertyName": "kind",
                          "mapping": {kind: f"#/components/schemas/{name}LogEntry"
                                      for kind, name in LOG_KINDS.items()}},
    },
    "CustomerMessageLogEntry": log_entry(
        "customer_message",
        "A customer message was recorded (once per message id; Meta's redeliveries add nothing). A message "
        "newer than the newest one starts a new silence period; a late, older one joins the current period.",
        ["message_id", "message_kind", "sent_at", "silence_period"],
        {
            "message_id": {"type": "string",
                           "description": "The platform's message id (WhatsApp `wamid`, Messenger/Instagram "
                                          "`mid`; synthetic ids for postbacks without a `mid` and for "
                                          "reactions).",
                           "examples": [WAMID_1]},
            "message_kind": {"type": "string",
                             "description": "`text`, `media`, `location`, `interactive`, `quick_reply`, "
                                            "`postback`, `reaction`, `story_reply`, or `other:` and the "
                                            "platform's own type name.",
                             "examples": ["text"]},
            "sent_at": date_time("Meta's timestamp of the message."),
            "silence_period": PERIOD_SCHEMA,
        }),
    "ScheduledLogEntry": log_entry(
        "scheduled",
        "An active follow-up was scheduled for the silence period, from the customer's message (Meta's "
        "timestamp).",
        ["follow_up_id", "silence_period", "due_at", "requested_minutes", "effective_minutes", "clamped",
         "send_as"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
            "due_at": date_time("When it comes due."),
            "requested_minutes": {"type": ["integer", "null"], "minimum": 1,
                                  "description": "The manual delay; `null` for an `ai` delay, whose "
                                                 "`effective_minutes` is the judge's first check (120 "
                                                 "minutes by default)."},
            "effective_minutes": {"type": "integer", "minimum": 1,
                                  "description": "Minutes after the customer's message at which it is due."},
            "clamped": {"type": "boolean",
                        "description": "True when the delay was shortened to fit the 24 h window."},
            "send_as": {"type": "string", "enum": ["free_form", "template"],
                        "description": "`template`: WhatsApp past the window, with the follow-up's template."},
        }),
    "CancelledLogEntry": log_entry(
        "cancelled",
        "A pending follow-up was cancelled.",
        ["follow_up_id", "silence_period", "reason"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": {"type": "integer", "minimum": 1,
                               "description": "The silence period it had been scheduled for."},
            "reason": {"type": "string",
                       "enum": ["customer_replied", "follow_up_deactivated", "follow_up_deleted",
                                "stop_trigger_met"],
                       "description": "`customer_replied`: a newer customer message started a new silence "
                                      "period; `follow_up_deactivated` / `follow_up_deleted`: the follow-up "
                                      "was deactivated or deleted; `stop_trigger_met`: when another "
                                      "follow-up of the conversation came due, the judge found the stop "
                                      "trigger met (that one is logged as `stopped`), so everything else "
                                      "pending in the conversation is cancelled until the customer writes "
                                      "again."},
        }),
    "DroppedLogEntry": log_entry(
        "dropped",
        "A follow-up came due and was dropped by the checks made before the judge is asked; nothing was "
        "sent and no judge call was made. A due follow-up of a silence period that has already ended is "
        "only logged when it was still pending.",
        ["follow_up_id", "silence_period", "reason"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
            "reason": {"type": "string",
                       "enum": ["stale", "follow_up_deleted", "follow_up_inactive", "already_sent",
                                "conversation_stopped", "no_integration"],
                       "description": "Checked in this order. `stale`: the customer wrote since, a newer "
                                      "silence period exists; `follow_up_deleted` / `follow_up_inactive`: "
                                      "the follow-up was deleted or deactivated; `already_sent`: this "
                                      "follow-up already went out (or was otherwise settled) in this silence "
                                      "period; `conversation_stopped`: the stop trigger was met in this "
                                      "silence period; `no_integration`: the chatbot no longer has the "
                                      "conversation's account connected."},
        }),
    "SkippedLogEntry": log_entry(
        "skipped",
        "A follow-up that passed the checks was judged (or its send attempted) and not sent.",
        ["follow_up_id", "silence_period", "reason"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
            "reason": {"type": "string",
                       "enum": ["description_does_not_apply", "window_closed", "judge_failed", "judge_unsure",
                                "opted_out", "template_not_approved"],
                       "description": "`description_does_not_apply`: the judge found the follow-up's "
                                      "description does not fit this conversation; `window_closed`: past the "
                                      "24 h window (minus the safety margin) with no WhatsApp template to "
                                      "send instead, or Meta answered that the window is closed; "
                                      "`judge_failed`: the judge could not be asked (timeout, unavailable, "
                                      "invalid answer, or no text for an `ai` message) on any of its attempts "
                                      "(each failure is retried after 5, 10, 20, 40 minutes while a send would "
                                      "still be possible, see `waiting` with `judge_retry`), and nothing is sent "
                                      "without a verdict; `judge_unsure`: the judge was not confident that the "
                                      "follow-up still makes sense (the offline judge's unsure band), so it was "
                                      "held rather than risk a wrong send; `opted_out`: Meta refused because the customer "
                                      "opted out of marketing messages; `template_not_approved`: past the "
                                      "window, and the chatbot's template catalogue says the follow-up's "
                                      "WhatsApp template cannot be sent (paused, disabled, rejected, deleted, "
                                      "not approved yet, or no longer listed), so nothing was sent to Meta; "
                                      "or Meta refused the send because the template does not exist in that "
                                      "language, is paused or is disabled (codes 132001, 132015, 132016), "
                                      "which the catalogue had not heard of yet."},
        }),
    "WaitingLogEntry": log_entry(
        "waiting",
        "`ai` delay: the judge asked to check again later, in the same silence period; or, with "
        "`judge_retry`, the judge could not be asked (or its answer failed the checks) and is asked again "
        "then. The pending follow-up moves to `until` (see the conversation's `pending`) and is judged again "
        "then. Waiting is only allowed while a send at `until` would still be possible.",
        ["follow_up_id", "silence_period", "until"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
            "until": {"type": "string", "format": "date-time",
                      "description": "When it is checked again (RFC 3339, UTC).",
                      "examples": ["2026-11-24T13:41:27.512Z"]},
            "judge_retry": {"type": "integer", "minimum": 1,
                            "description": "Present after a judge failure: how many judge attempts failed "
                                           "so far. After the fifth, the follow-up is skipped "
                                           "(`judge_failed`)."},
        }),
    "StoppedLogEntry": log_entry(
        "stopped",
        "The judge found the stop trigger met for this follow-up: it is not sent, every other pending "
        "follow-up of the conversation is cancelled (`cancelled`, reason `stop_trigger_met`, logged just "
        "before this entry), and nothing more is sent in this silence period. The customer's next message "
        "starts a new one.",
        ["follow_up_id", "silence_period"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
        }),
    "SentLogEntry": log_entry(
        "sent",
        "The follow-up went out: Meta accepted it.",
        ["follow_up_id", "silence_period", "delivery_id", "sent_as"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
            "delivery_id": DELIVERY_ID_SCHEMA,
            "sent_as": {"type": "string", "enum": ["text", "template"],
                        "description": "`text`: free-form text inside the window (the custom text, or the "
                                       "judge's for an `ai` message); `template`: the follow-up's WhatsApp "
                                       "template, past the window."},
        }),
    "FailedLogEntry": log_entry(
        "failed",
        "Meta refused the send (a rejected access token, or another error). Not retried.",
        ["follow_up_id", "silence_period", "delivery_id", "error"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
            "delivery_id": DELIVERY_ID_SCHEMA,
            "error": {"type": "string",
                      "description": "What went wrong, for operators, e.g. `the access token was rejected` "
                                     "(update the integration's token) or `rejected by Meta (code 131026)`.",
                      "examples": ["the access token was rejected"]},
        }),
    "OutcomeUnknownLogEntry": log_entry(
        "outcome_unknown",
        "The request to Meta left but no answer came back: the follow-up may or may not have been "
        "delivered. It is never retried, so the customer cannot get it twice. On WhatsApp, a later status "
        "can still settle the delivery (see the webhook).",
        ["follow_up_id", "silence_period", "delivery_id"],
        {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "silence_period": PERIOD_SCHEMA,
            "delivery_id": DELIVERY_ID_SCHEMA,
        }),
    "LogPage": {
        "type": "object",
        "required": ["entries"],
        "properties": {
            "entries": {"type": "array", "items": ref("LogEntry"), "description": "Newest first."},
            "next_before": {"type": "integer", "minimum": 1,
                            "description": "Pass as `before` to read the next, older page; absent on the "
                                           "last page."},
        },
    },
    "DeliveryStatus": {
        "type": "string",
        "enum": ["claimed", "throttled", "sent", "delivered", "read", "failed", "skipped", "unknown"],
        "description": "`claimed`: being judged or sent right now (the claim that keeps a follow-up from "
                       "going out twice); `throttled`: Meta asked to slow down, the send is retried later "
                       "under the same delivery; `sent`: Meta accepted it; `delivered` / `read`: WhatsApp "
                       "reported it delivered or read; `failed`: Meta refused it, or WhatsApp later reported "
                       "it failed; `skipped`: judged and not sent (description does not apply, window closed, "
                       "judge failed, customer opted out, template not approved, or stop trigger met); `unknown`: the request left "
                       "but no answer came back, never retried. WhatsApp statuses only move a delivery "
                       "forward (`sent` → `delivered` → `read`, or `failed`), never back.",
    },
    "Delivery": {
        "type": "object",
        "description": "One follow-up for one conversation and silence period: claimed before the judge is "
                       "asked, then settled with what happened. At most one per (conversation, follow-up, "
                       "silence period). A follow-up that is dropped before the judge, or that the judge "
                       "asked to wait, has no delivery (see the conversation log).",
        "required": ["id", "conversation_id", "platform", "customer_id", "silence_period", "status", "sent_as",
                     "template_name", "billed", "platform_message_id", "detail", "created_at", "sent_at",
                     "replied_at"],
        "properties": {
            "id": {"type": "string", "pattern": DELIVERY_ID_PATTERN,
                   "description": "`dlv_` and 32 hex digits. On WhatsApp it travels with the message as "
                                  "`biz_opaque_callback_data`, so Meta's statuses find it again; log entries "
                                  "name it as `delivery_id`.",
                   "examples": [DLV1]},
            "conversation_id": {"type": "string",
                                "description": "`{platform}:{business account id}:{customer id}`.",
                                "examples": [CONV_ID]},
            "platform": ref("Platform"),
            "customer_id": {"type": "string", "pattern": META_ID_PATTERN,
                            "description": "The customer it went to: WhatsApp `wa_id` (or business-scoped user "
                                           "id), Messenger PSID or Instagram IGSID.",
                            "examples": [WA_CUSTOMER]},
            "silence_period": PERIOD_SCHEMA,
            "status": ref("DeliveryStatus"),
            "sent_as": {"type": ["string", "null"], "enum": ["text", "template", None],
                        "description": "`text` (free-form) or `template` (WhatsApp template) once a send was "
                                       "attempted; `null` while claimed or throttled, and when it was skipped "
                                       "before sending."},
            "template_name": {"type": ["string", "null"],
                              "description": "The WhatsApp template's name when `sent_as` is `template`.",
                              "examples": ["purchase_confirmation"]},
            "billed": {"type": "boolean",
                       "description": "Whether Meta bills this send: it went out as a WhatsApp template "
                                      "(`sent_as: template`) and Meta accepted it (`status` `sent`, `delivered` "
                                      "or `read`). Follow-ups send templates only past the 24-hour window, where "
                                      "every template send is billed; free-form text inside the window is "
                                      "free. A template send WhatsApp later reports `failed`, or whose outcome "
                                      "is `unknown`, is `false`."},
            "platform_message_id": {"type": ["string", "null"],
                                    "description": "Meta's id of the message sent (WhatsApp `wamid`, "
                                                   "Messenger/Instagram `mid`); `null` until Meta accepted it."},
            "detail": {"type": ["string", "null"],
                       "description": "Why it failed, was skipped or has an unknown outcome, for operators "
                                      "(free text, not a stable code: the log entry's `reason` is), e.g. "
                                      "`template_not_approved: status PAUSED (FIRST_PAUSE)`."},
            "created_at": date_time("When it was claimed."),
            "sent_at": {"oneOf": [date_time(), {"type": "null"}],
                        "description": "When the send was settled as accepted by Meta (`sent`) or as "
                                       "unanswered (`unknown`); kept when WhatsApp statuses move the delivery "
                                       "on, to `failed` included. `null` for a delivery that never went out."},
            "replied_at": {"oneOf": [date_time(), {"type": "null"}],
                           "description": "Meta's timestamp of the customer's first message within 24 hours "
                                          "after `sent_at`: the follow-up counts as answered. `null` "
                                          "otherwise."},
        },
    },
    "DeliveryList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref("Delivery"),
                                 "description": "Newest first (by `created_at`)."}},
    },
    "FollowUpStats": {
        "type": "object",
        "description": "What a follow-up did, over every conversation of the chatbot, for tuning it. Counts "
                       "from the conversation logs (`scheduled`, `cancelled`, `dropped`, `skipped`, `stopped`, "
                       "`failed`, `outcome_unknown`) count log entries; `sent` and `replied` count deliveries.",
        "required": ["follow_up_id", "scheduled", "cancelled", "dropped", "skipped", "stopped", "sent", "failed",
                     "outcome_unknown", "replied", "reply_rate"],
        "properties": {
            "follow_up_id": FOLLOW_UP_ID_SCHEMA,
            "scheduled": {"type": "integer", "minimum": 0,
                          "description": "Times it was scheduled (once per conversation and silence period)."},
            "cancelled": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                          "description": "Pending instances cancelled, by `reason` of the `cancelled` entries "
                                         "(`customer_replied`, `follow_up_deactivated`, `follow_up_deleted`, "
                                         "`stop_trigger_met`). Only reasons that occurred; `{}` when none.",
                          "examples": [{"customer_replied": 9, "stop_trigger_met": 2}]},
            "dropped": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                        "description": "Dropped when due, before the judge, by `reason` of the `dropped` "
                                       "entries (`stale`, `follow_up_deleted`, `follow_up_inactive`, "
                                       "`already_sent`, `conversation_stopped`, `no_integration`). `{}` when "
                                       "none."},
            "skipped": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                        "description": "Judged and not sent, by `reason` of the `skipped` entries "
                                       "(`description_does_not_apply`, `window_closed`, `judge_failed`, "
                                       "`judge_unsure`, `opted_out`, `template_not_approved`). `{}` when none."},
            "stopped": {"type": "integer", "minimum": 0,
                        "description": "Times the judge found the stop trigger met when this follow-up came due."},
            "sent": {"type": "integer", "minimum": 0,
                     "description": "Deliveries that went out and are now `sent`, `delivered` or `read`. A "
                                    "delivery with an unknown outcome counts once WhatsApp reports it "
                                    "delivered or read; one WhatsApp later reports failed no longer counts."},
            "failed": {"type": "integer", "minimum": 0,
                       "description": "`failed` log entries: sends Meta refused. (A failure WhatsApp reports "
                                      "later, by status, is not counted here.)"},
            "outcome_unknown": {"type": "integer", "minimum": 0,
                                "description": "`outcome_unknown` log entries: sends that got no answer."},
            "replied": {"type": "integer", "minimum": 0,
                        "description": "Of `sent`, those the customer answered within 24 hours (a customer "
                                       "message whose Meta timestamp is at most 24 h after `sent_at`)."},
            "reply_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                           "description": "**Reply rate**: the share of sent follow-ups the customer answered "
                                          "within 24 hours, `replied / sent` (0 to 1). `null` before the first "
                                          "send.",
                           "examples": [0.35]},
        },
    },
    "MetaWebhook": {
        "type": "object",
        "title": "Meta webhook delivery",
        "description": "Meta's envelope, as Meta sends it: `object` names the product and `entry` batches "
                       "events (up to 1000 per delivery). `whatsapp_business_account` (WhatsApp Cloud API: "
                       "`entry[].changes[]` with `field: messages` and `value.messages[]` / "
                       "`value.statuses[]`), `page` (Messenger: `entry[].messaging[]`, or `standby[]` when "
                       "another app owns the thread) and `instagram` (Instagram Messaging: "
                       "`entry[].messaging[]`). Every customer message counts as an interaction (text, media, "
                       "location, interactive and quick replies, postbacks, story replies, reactions); "
                       "receipts, reads, WhatsApp statuses, unreacts, template status updates and errors do "
                       "not, and echoes of the business's own messages only join the transcript. A WhatsApp "
                       "status (`value.statuses[]`) carrying one of our delivery ids in "
                       "`biz_opaque_callback_data` moves that delivery forward. A WhatsApp change with "
                       "`field: message_template_status_update` (`entry[].id`: the WhatsApp Business Account "
                       "id; `entry[].time`: when, in seconds) updates the template catalogue. An event "
                       "the service cannot read is skipped; the others in the batch still count.",
        "required": ["object", "entry"],
        "properties": {
            "object": {"type": "string",
                       "description": "`whatsapp_business_account`, `page` or `instagram`; any other value "
                                      "is acknowledged with 200 and ignored.",
                       "examples": ["whatsapp_business_account", "page", "instagram"]},
            "entry": {"type": "array", "items": {"type": "object"}},
        },
    },
})

# ---------------------------------------------------------------- operations
INTEGRATION_TAG = ["Integrations"]
CONVERSATION_TAG = ["Conversations"]
WEBHOOK_TAG = ["Webhook"]
DELIVERY_TAG = ["Deliveries"]

def json_ok(description, schema, example=None, examples_=None, headers_=None):
    media = {"schema": ref(schema)}
    if example is not None:
        media["example"] = example
    if examples_:
        media["examples"] = examples_
    out = {"description": description, "content": {"application/json": media}}
    if headers_:
        out["headers"] = headers_
    return out

paths.update({
    "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/deliveries": {
        "parameters": ITEM_PARAMS,
        "get": {
            "tags": DELIVERY_TAG,
            "operationId": "listFollowUpDeliveries",
            "summary": "List what a follow-up sent",
            "description": "The follow-up's deliveries in every conversation of the chatbot, newest first, at "
                           "most `limit` of them (default 50; no cursor): when, to whom, on which platform, as "
                           "text or template, and how it went (`status`, updated by WhatsApp's delivery and "
                           "read statuses). A delivery exists for each due follow-up that passed the checks "
                           "and was claimed for the judge: sent, skipped, stopped, failed, with an unknown "
                           "outcome, or in progress. Follow-ups dropped before the judge, and `waiting` checks, "
                           "have none: the conversation log shows them. `limit` is checked before the follow-up is looked up. A follow-up that "
                           "does not exist (or was deleted) is 404.",
            "parameters": [ref("PageLimit", "parameters")],
            "responses": {
                "200": json_ok("The deliveries, newest first.", "DeliveryList",
                               examples_={"recent": ref("FollowUpDeliveries", "examples")}),
                "400": r("BadPathOrQuery"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "422": problem_response(
                    "`type: validation-failed`: `limit` is not a whole number from 1 to 200 (rule `range`).",
                    example_names=["BadPageLimit"]),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/follow-ups/{follow_up_id}/stats": {
        "parameters": ITEM_PARAMS,
        "get": {
            "tags": DELIVERY_TAG,
            "operationId": "getFollowUpStats",
            "summary": "Count what a follow-up did, with its reply rate",
            "description": "How often the follow-up was scheduled, cancelled, dropped, skipped (each by "
                           "reason), stopped, sent, failed or left with an unknown outcome, over every "
                           "conversation of the chatbot, and its **reply rate**: the share of sent follow-ups "
                           "the customer answered within 24 hours (`replied / sent`; `null` before the first "
                           "send). Use it to tune the delay, the description and the message. A follow-up "
                           "that does not exist (or was deleted) is 404.",
            "responses": {
                "200": json_ok("The follow-up's counts.", "FollowUpStats",
                               examples_={"sent": ref("FollowUpStats", "examples"),
                                          "not_sent_yet": ref("FollowUpStatsNoSends", "examples")}),
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("NotFound"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/integrations": {
        "parameters": [ref("ChatbotId", "parameters")],
        "get": {
            "tags": INTEGRATION_TAG,
            "operationId": "listIntegrations",
            "summary": "List a chatbot's integrations",
            "description": "The platform accounts connected to the chatbot, by platform then account id, with "
                           "the WhatsApp Business Account each WhatsApp number names. Access tokens are never "
                           "returned: `has_access_token` only says one is stored. A chatbot without "
                           "integrations gives an empty list.",
            "responses": {
                "200": json_ok("The chatbot's integrations.", "IntegrationList",
                               example={"items": [integration_ig, integration_wa]}),
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("ChatbotNotFound"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/integrations/{platform}/{account_id}": {
        "parameters": [ref("ChatbotId", "parameters"), ref("PlatformPath", "parameters"),
                       ref("AccountId", "parameters")],
        "put": {
            "tags": INTEGRATION_TAG,
            "operationId": "putIntegration",
            "summary": "Connect an account, or replace its token",
            "description": "Connects the platform account to the chatbot with its access token (201), or "
                           "replaces the token when this chatbot already has the account (200; `created_at` "
                           "stays). From then on, webhook events for the account belong to this chatbot. An "
                           "account belongs to at most one chatbot: when another chatbot has it, 409 "
                           "`account-taken` and nothing changes (remove it there first). The token is "
                           "write-only: it is never returned or logged. The body is read and checked as JSON "
                           "(400, 413, 415, and 422 for a wrong type or unknown field) before the path's "
                           "`platform` is: an unknown platform is 404 only for an otherwise readable body. "
                           "`account_id`, `access_token` and `whatsapp_business_account_id` rule errors are "
                           "reported together.\n\n"
                           "For WhatsApp, `whatsapp_business_account_id` names the WhatsApp Business Account "
                           "that owns the number's message templates: the chatbot's WhatsApp template "
                           "catalogue covers the accounts its WhatsApp integrations name, listed and created "
                           "with that integration's token. Leaving the field out keeps the stored account "
                           "(rotating a token keeps it), `null` clears it. Proof of access: whenever the "
                           "integration keeps or names an account, Meta must list that account's templates to "
                           "the token sent (every page is read); otherwise 409 `business-account-not-accessible` "
                           "(or `integration-token-rejected` for a token Meta refuses) and nothing is saved, so "
                           "no chatbot can name another tenant's account and read its templates. Meta "
                           "unreachable or throttling: 503, nothing saved. Naming an account shows nothing by "
                           "itself: its templates appear once the chatbot refreshes the catalogue (or creates "
                           "a template there) with this token. An account no longer named on any of the "
                           "chatbot's WhatsApp integrations drops out of its catalogue.",
            "requestBody": {
                "required": True,
                "description": "The access token and, for WhatsApp, the business account, as `application/json`.",
                "content": {"application/json": {
                    "schema": ref("IntegrationRequest"),
                    "examples": {
                        "whatsapp": {"summary": "Connect a WhatsApp number with its business account",
                                     "value": {"access_token": "EAAG-your-whatsapp-token",
                                               "whatsapp_business_account_id": WABA_ID}},
                        "rotate_token": {"summary": "Replace the token only (the business account is kept)",
                                         "value": {"access_token": "EAAG-your-new-whatsapp-token"}},
                        "clear_business_account": {
                            "summary": "Replace the token and stop using the business account's templates",
                            "value": {"access_token": "EAAG-your-whatsapp-token",
                                      "whatsapp_business_account_id": None}},
                        "page": {"summary": "Connect a Facebook page or Instagram account (no business account)",
                                 "value": {"access_token": "EAAG-your-page-token"}},
                    }}},
            },
            "responses": {
                "200": json_ok("The token was replaced.", "Integration",
                               example={**integration_wa, "updated_at": "2026-11-26T10:15:03.118Z"}),
                "201": json_ok("The account is now connected to this chatbot.", "Integration",
                               example=integration_wa),
                "400": r("BadIntegrationRequest"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("IntegrationNotFound"),
                "409": problem_response(
                    "`type: account-taken`: another chatbot has this account connected. Nothing was changed; "
                    "remove the integration there first. `type: business-account-not-accessible` or "
                    "`integration-token-rejected`: Meta did not list the named WhatsApp Business Account's "
                    "templates to this token (the proof of access); nothing was changed.",
                    example_names=["AccountTaken"]),
                "413": r("PayloadTooLarge"),
                "415": r("UnsupportedMediaType"),
                "422": problem_response(
                    "`type: validation-failed`: `account_id` (from the path) is not 1 to 128 letters, digits, "
                    "`.`, `_` or `-` (rule `meta_id`); `access_token` is missing or `null` (rule `required`) "
                    "or, trimmed, empty, longer than 2048 bytes or containing whitespace (rule "
                    "`token_format`); `whatsapp_business_account_id` is, trimmed, not 1 to 32 digits (rule "
                    "`waba_id`) or is not `null` on a Messenger or Instagram integration (rule `whatsapp_only`); "
                    "or the body is JSON of the wrong shape (rule `type`; a field other than `access_token` and "
                    "`whatsapp_business_account_id`: rule `unknown_field`). Nothing was changed.",
                    example_names=["IntegrationValidationFailed", "MissingAccessToken", "IntegrationWabaInvalid",
                                   "IntegrationWabaNotWhatsApp", "IntegrationUnknownField"]),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
        "delete": {
            "tags": INTEGRATION_TAG,
            "operationId": "deleteIntegration",
            "summary": "Disconnect an account",
            "description": "Removes the integration and its token. Webhook events for the account are then "
                           "acknowledged and ignored, and the account can be connected to another chatbot. "
                           "Its WhatsApp Business Account drops out of the chatbot's template catalogue unless "
                           "another WhatsApp integration of the chatbot names it. "
                           "Conversations, logs and already scheduled follow-ups stay. Deleting it again, or an "
                           "account of another chatbot, is 404.",
            "responses": {
                "204": {"description": "Disconnected."},
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("IntegrationNotFound"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/conversations": {
        "parameters": [ref("ChatbotId", "parameters")],
        "get": {
            "tags": CONVERSATION_TAG,
            "operationId": "listConversations",
            "summary": "List a chatbot's conversations",
            "description": "The chatbot's conversations, most recently active first (by the customer's newest "
                           "message; conversations with no customer message yet come last), at most `limit` of "
                           "them. There is no cursor: only the `limit` most recent ones can be listed. A "
                           "conversation appears once a webhook event for it arrives on an account the chatbot "
                           "has connected.",
            "parameters": [ref("PageLimit", "parameters")],
            "responses": {
                "200": json_ok("The conversations.", "ConversationList",
                               example={"items": [conversation_wa, conversation_msg]}),
                "400": r("BadPathOrQuery"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("ChatbotNotFound"),
                "422": problem_response(
                    "`type: validation-failed`: `limit` is not a whole number from 1 to 200 (rule `range`).",
                    example_names=["BadPageLimit"]),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/conversations/{conversation_id}": {
        "parameters": [ref("ChatbotId", "parameters"), ref("ConversationId", "parameters")],
        "get": {
            "tags": CONVERSATION_TAG,
            "operationId": "getConversation",
            "summary": "Get a conversation and its pending follow-ups",
            "description": "The conversation, with the follow-ups scheduled in it that are not settled yet "
                           "(not sent, skipped, dropped, stopped or cancelled), soonest first.",
            "responses": {
                "200": json_ok("The conversation.", "ConversationDetail", example={
                    **conversation_wa,
                    "pending": [
                        {"follow_up_id": FU1, "silence_period": 2, "due_at": "2026-11-24T17:05:00Z"},
                        {"follow_up_id": FU2, "silence_period": 2, "due_at": "2026-11-25T13:05:00Z"},
                    ]}),
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("ConversationNotFound"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/conversations/{conversation_id}/log": {
        "parameters": [ref("ChatbotId", "parameters"), ref("ConversationId", "parameters")],
        "get": {
            "tags": CONVERSATION_TAG,
            "operationId": "getConversationLog",
            "summary": "Read a conversation's log",
            "description": "Every decision the service took about the conversation, newest first: customer "
                           "messages recorded; follow-ups scheduled, cancelled, dropped or skipped (each with "
                           "its `reason`), waiting, stopped, sent, failed or with an unknown outcome. `limit` "
                           "entries per page (default 50); when older entries remain, `next_before` is the "
                           "cursor to pass as `before` for the next page. Entries never hold message text.",
            "parameters": [ref("PageLimit", "parameters"), ref("LogBefore", "parameters")],
            "responses": {
                "200": {"description": "A page of the log.",
                        "content": {"application/json": {
                            "schema": ref("LogPage"),
                            "examples": {n: ref(n, "examples") for n in
                                         ["ConversationLog", "ConversationLogFirstPage",
                                          "ConversationLogNextPage", "ConversationLogSendOutcomes"]}}}},
                "400": r("BadPathOrQuery"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("ConversationNotFound"),
                "422": r("PageValidationFailed"),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
    },
    "/v1/webhooks/meta": {
        "get": {
            "tags": WEBHOOK_TAG,
            "operationId": "verifyMetaWebhook",
            "summary": "Meta's subscribe handshake",
            "description": "Meta calls this when the webhook is configured in the app: with `hub.mode=subscribe` "
                           "and the right `hub.verify_token`, the answer is `hub.challenge` as plain text. No "
                           "bearer token.",
            "security": [],
            "parameters": [ref("HubMode", "parameters"), ref("HubVerifyToken", "parameters"),
                           ref("HubChallenge", "parameters")],
            "responses": {
                "200": {"description": "Verified: the challenge, as it was sent.",
                        "content": {"text/plain": {"schema": {"type": "string", "maxLength": 256},
                                                   "example": "1158201444"}}},
                "403": problem_response(
                    "`type: verification-failed`: `hub.mode` is not `subscribe`, the verify token does not "
                    "match, or the challenge is missing or longer than 256 bytes (also for a query string "
                    "that cannot be parsed).",
                    single_example={"type": "verification-failed", "title": "Verification failed",
                                    "status": 403,
                                    "detail": "hub.mode must be `subscribe` and hub.verify_token must match."}),
                "500": r("Internal"),
            },
        },
        "post": {
            "tags": WEBHOOK_TAG,
            "operationId": "receiveMetaWebhook",
            "summary": "Receive Meta webhook events",
            "description": "Meta's event deliveries for WhatsApp, Messenger and Instagram. No bearer token: the "
                           "body must be signed with the Meta app secret (`X-Hub-Signature-256`), which is "
                           "checked on the raw bytes before anything is parsed. Events are routed to the "
                           "chatbot that has the event's account connected (see Integrations); events for an "
                           "account no chatbot has connected, and an `object` other than the three below, are "
                           "acknowledged with 200 and ignored. Each new customer message is recorded once (by "
                           "message id) and, when it is the conversation's newest, starts a new silence period: "
                           "what was pending is cancelled (`customer_replied`) and every active follow-up is "
                           "scheduled from Meta's timestamp of the message. A customer message within 24 hours "
                           "after a sent follow-up also marks that delivery as answered (`replied_at`, the "
                           "reply rate in `stats`).\n\n"
                           "WhatsApp `statuses` whose `biz_opaque_callback_data` is one of this chatbot's "
                           "delivery ids (the service sets it on every WhatsApp send) move that delivery "
                           "forward: `sent` → `delivered` → `read`, or to `failed`. Never backwards: a late "
                           "`delivered` after `read` changes nothing, and a `failed` or `skipped` delivery "
                           "stays as it is; a delivery whose outcome was `unknown` is settled by the status. "
                           "Statuses of other messages, and status values other than these four, are "
                           "acknowledged and ignored.\n\n"
                           "WhatsApp `message_template_status_update` changes keep the WhatsApp template "
                           "catalogue current. The template is found by the entry's `id` (the WhatsApp Business "
                           "Account id), `message_template_name` and `message_template_language`; `event` "
                           "becomes its `status` (`APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `FLAGGED`, "
                           "`PENDING_DELETION`, …; `REINSTATED` means APPROVED again; an event this service does "
                           "not know becomes `UNKNOWN`, which is not sendable), and `reason` (`NONE` is no "
                           "reason), else `other_info.title` (e.g. `FIRST_PAUSE`), becomes its "
                           "`status_reason`. The entry's `time` dates the change: an update older than the "
                           "status the catalogue holds (from a later webhook or refresh) is ignored, so "
                           "redeliveries and late deliveries never undo a newer status. Updates for templates "
                           "the catalogue does not list are ignored: refresh the catalogue to add them. The "
                           "update does not depend on the number's integration: it applies to the account's "
                           "templates, which every chatbot that linked the account sees. A change without "
                           "the account id, the entry's `time`, the template's name or language, or the "
                           "`event` is skipped as unreadable.\n\n"
                           "WhatsApp `template_category_update` changes (Meta recategorised a template, which "
                           "changes what its sends cost) set the template's `category` when the change is "
                           "completed (`previous_category` and `new_category`); an announced change "
                           "(`correct_category`) is acknowledged and changes nothing yet. A change dated "
                           "before the catalogue's last refresh or status update of that template is "
                           "ignored.\n\n"
                           "The answer is 200 only once everything in the delivery is durable. On a 5xx, Meta "
                           "redelivers; a redelivery (or any replay) changes nothing that was already done and "
                           "finishes what was not. A signed body that is not a Meta payload is 400 (a "
                           "redelivery would not help).",
            "security": [],
            "parameters": [ref("HubSignature", "parameters")],
            "requestBody": {
                "required": True,
                "description": "Meta's JSON body, byte for byte as Meta sent it (the signature covers the raw "
                               "bytes; the `Content-Type` is not checked). At most 1 MiB.",
                "content": {"application/json": {
                    "schema": ref("MetaWebhook"),
                    "examples": {
                        "whatsapp_text": ref("WhatsAppTextDelivery", "examples"),
                        "messenger_text": ref("MessengerTextDelivery", "examples"),
                        "instagram_text": ref("InstagramTextDelivery", "examples"),
                        "whatsapp_status": ref("WhatsAppStatusDelivery", "examples"),
                        "whatsapp_template_paused": ref("WhatsAppTemplatePausedDelivery", "examples"),
                    }}},
            },
            "responses": {
                "200": {"description": "Received and durable (or acknowledged and ignored).",
                        "content": {"text/plain": {"schema": {"type": "string", "const": "EVENT_RECEIVED"},
                                                   "example": "EVENT_RECEIVED"}}},
                "400": problem_response(
                    "`type: bad-request`: the body is correctly signed but is not a Meta webhook payload "
                    "(not JSON, or not an object with `object` and an `entry` array). Nothing was recorded.",
                    single_example={"type": "bad-request", "title": "Malformed request", "status": 400,
                                    "detail": "the body is not a Meta webhook payload"}),
                "401": problem_response(
                    "`type: invalid-signature`: `X-Hub-Signature-256` is missing, malformed or does not match "
                    "the body. Nothing was recorded.",
                    single_example={"type": "invalid-signature", "title": "Invalid signature", "status": 401,
                                    "detail": "X-Hub-Signature-256 is missing or does not match the body; "
                                              "nothing was recorded."}),
                "413": problem_response(
                    "`type: payload-too-large`: the body is larger than 1 MiB (1048576 bytes), or could not "
                    "be read. Checked before the signature. Nothing was recorded.",
                    single_example={"type": "payload-too-large", "title": "Payload too large", "status": 413,
                                    "detail": "The request body exceeds the size limit."}),
                "500": r("Internal"),
                "503": problem_response(
                    "`type: unavailable`: the store or the scheduler could not complete the delivery. Meta "
                    "redelivers it later; whatever part was already done is not repeated.",
                    single_example={"type": "unavailable", "title": "Temporarily unavailable", "status": 503,
                                    "detail": "The service could not complete the request; retry later."}),
            },
        },
    },
})

# ================================================================ WhatsApp template catalogue
# Templates belong to a WhatsApp Business Account (WABA) named on a chatbot's WhatsApp
# integrations; shared/http/src/routes/templates.rs and shared/app/src/catalogue.rs serve them.
TEMPLATE_TAG = ["WhatsApp templates"]
TEMPLATE_STATUSES = ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION",
                     "DELETED", "LIMIT_EXCEEDED", "ARCHIVED", "FLAGGED", "UNKNOWN"]
TEMPLATE_CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"]
BILLING_OF = {"MARKETING": "always", "AUTHENTICATION": "always", "UTILITY": "outside_customer_service_window"}
BILLING_NOTE = ("Meta bills every template send outside the 24-hour customer service window, and marketing and "
                "authentication templates always. Follow-ups send a template only past that window, so every "
                "template send of a follow-up is billed; free-form messages inside the window are free.")
UNSUPPORTED_MEDIA_HEADER = "follow-ups fill body placeholders only; this template needs a media or location header"
OTHER_WABA_ID = "104871236650021"

# The story of the examples: the catalogue is refreshed at 10:18 (four templates), the Spanish
# appointment reminder is created at 10:20 (PENDING, linked the account again), and at 13:31
# Meta pauses new_patient_offer (status-update webhook, FIRST_PAUSE).
REFRESHED_AT = "2026-11-26T10:18:02.511Z"
CREATED_AT = "2026-11-26T10:20:41.305Z"
PAUSED_AT = "2026-11-26T13:31:40Z"
PAUSED_AT_SECS = 1795699900
assert datetime.fromtimestamp(PAUSED_AT_SECS, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") == PAUSED_AT

APPOINTMENT_BODY = "Hi {{1}}, your slot on {{2}} is still free. Reply YES to book it."
APPOINTMENT_BODY_ES = "Hola {{1}}, tu cita del {{2}} sigue libre. Responde SÍ para reservarla."
PURCHASE_BODY = ("Hi {{1}}, thank you for your purchase! Is everything as you expected? Just reply here if you "
                 "need anything.")
NEW_PATIENT_BODY = "Hi {{1}}, new patients get a free check-up this month. Shall we find you a slot?"
WHITENING_BODY = "Hi {{1}}, a whitening session is {{2}} this month. Book it online or just reply here."

def catalogue_entry(template_id, name, language, category, status, status_reason, status_updated_at,
                    body_text, body_parameter_count, components, unsupported=None):
    return {
        "waba_id": WABA_ID, "template_id": template_id, "name": name, "language": language,
        "category": category, "status": status, "status_reason": status_reason,
        "status_updated_at": status_updated_at, "parameter_format": "positional", "body_text": body_text,
        "body_parameter_count": body_parameter_count,
        "usable": status in ("APPROVED", "FLAGGED") and unsupported is None,
        "unsupported": unsupported, "billing": BILLING_OF.get(category), "components": components,
    }

tpl_appointment = catalogue_entry(
    "1274983650212345", "appointment_reminder", "en_US", "UTILITY", "APPROVED", None, REFRESHED_AT,
    APPOINTMENT_BODY, 2,
    [{"type": "BODY", "text": APPOINTMENT_BODY, "example": {"body_text": [["Kerry", "Tue 10:00"]]}},
     {"type": "FOOTER", "text": "Bright Smile Dental"},
     {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "YES"}]}])
# Created here: `components` are what was submitted, in Meta's shape.
tpl_appointment_es = catalogue_entry(
    "1302847561928374", "appointment_reminder", "es", "UTILITY", "PENDING", None, CREATED_AT,
    APPOINTMENT_BODY_ES, 2,
    [{"type": "BODY", "text": APPOINTMENT_BODY_ES, "example": {"body_text": [["Kerry", "martes 10:00"]]}}])
tpl_new_patient = catalogue_entry(
    "1185520394761122", "new_patient_offer", "en_US", "MARKETING", "APPROVED", None, REFRESHED_AT,
    NEW_PATIENT_BODY, 1,
    [{"type": "HEADER", "format": "TEXT", "text": "Welcome to Bright Smile"},
     {"type": "BODY", "text": NEW_PATIENT_BODY, "example": {"body_text": [["Kerry"]]}},
     {"type": "FOOTER", "text": "Reply STOP to opt out"}])
tpl_new_patient_paused = {**tpl_new_patient, "status": "PAUSED", "status_reason": "FIRST_PAUSE",
                          "status_updated_at": PAUSED_AT, "usable": False}
tpl_purchase = catalogue_entry(
    "1093376228145590", "purchase_confirmation", "en", "UTILITY", "APPROVED", None, REFRESHED_AT,
    PURCHASE_BODY, 1,
    [{"type": "BODY", "text": PURCHASE_BODY, "example": {"body_text": [["Kerry"]]}}])
tpl_whitening = catalogue_entry(
    "1420963817554407", "whitening_promo_image", "en_US", "MARKETING", "APPROVED", None, REFRESHED_AT,
    WHITENING_BODY, 2,
    [{"type": "HEADER", "format": "IMAGE",
      "example": {"header_handle": ["https://scontent.whatsapp.net/v/t61.29466-34/whitening.jpg"]}},
     {"type": "BODY", "text": WHITENING_BODY, "example": {"body_text": [["Kerry", "$129"]]}},
     {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Book online",
                                      "url": "https://bright-smile.example/whitening"}]}],
    unsupported=UNSUPPORTED_MEDIA_HEADER)

def template_list(items, last_refreshed_at):
    keys = [(t["name"], t["language"], t["waba_id"]) for t in items]
    assert keys == sorted(keys), "items are ordered by name, then language, then account"
    return {"items": items, "accounts": [{"waba_id": WABA_ID, "last_refreshed_at": last_refreshed_at}],
            "billing_note": BILLING_NOTE}

catalogue_now = template_list([tpl_appointment, tpl_appointment_es, tpl_new_patient_paused, tpl_purchase,
                               tpl_whitening], CREATED_AT)
catalogue_refreshed = template_list([tpl_appointment, tpl_new_patient, tpl_purchase, tpl_whitening],
                                    REFRESHED_AT)
# The follow-up examples name templates of this catalogue, with as many parameters as placeholders.
for _req, _tpl in ((appointment_req, tpl_appointment), (aftersales_req, tpl_purchase)):
    assert (_req["whatsapp_template"]["name"], _req["whatsapp_template"]["language"]) == (_tpl["name"], _tpl["language"])
    assert len(_req["whatsapp_template"]["parameters"]) == _tpl["body_parameter_count"]
    assert _tpl["category"] == "UTILITY"  # the template_category in the follow-up examples' cost

new_template_es_req = {
    "name": "appointment_reminder", "language": "es", "category": "UTILITY",
    "body": {"text": APPOINTMENT_BODY_ES, "examples": ["Kerry", "martes 10:00"]},
    "buttons": [{"type": "quick_reply", "text": "SÍ"}],
}
new_template_marketing_req = {
    "waba_id": WABA_ID, "name": "whitening_spring_offer", "language": "en_US", "category": "MARKETING",
    "header": {"text": "A brighter smile in one visit"},
    "body": {"text": "Hi {{1}}, this spring a whitening session costs {{2}} instead of $180. Would you like to "
                     "book one?",
             "examples": ["Kerry", "$129"]},
    "footer": {"text": "Reply STOP to opt out"},
    "buttons": [{"type": "url", "text": "Book online", "url": "https://bright-smile.example/whitening"},
                {"type": "phone_number", "text": "Call us", "phone_number": "+15550783881"}],
}

whatsapp_template_paused_delivery = {
    "object": "whatsapp_business_account",
    "entry": [{
        "id": WABA_ID,
        "time": PAUSED_AT_SECS,
        "changes": [{
            "field": "message_template_status_update",
            "value": {
                "event": "PAUSED",
                "message_template_id": int(tpl_new_patient["template_id"]),
                "message_template_name": tpl_new_patient["name"],
                "message_template_language": tpl_new_patient["language"],
                "reason": None,
                "other_info": {
                    "title": "FIRST_PAUSE",
                    "description": "Your WhatsApp message template has been paused for 3 hours until Nov 26, "
                                   "2026 at 4:31 PM UTC because it had issues.",
                },
            },
        }],
    }],
}

def problem(type_, title, status, detail, errors=None):
    value = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors is not None:
        value["errors"] = errors
    return value

def validation_problem(errors):
    return problem("validation-failed", "Validation failed", 422,
                   f"{len(errors)} field(s) broke a rule; nothing was changed.", errors)

examples.update({
    "TemplateCatalogue": {
        "summary": "A catalogue: usable, pending, paused and unsupported templates",
        "description": "One account, refreshed at 10:18 and linked again at 10:20 by creating the Spanish "
                       "`appointment_reminder` (still `PENDING`). "
                       "At 13:31 a status-update webhook paused `new_patient_offer` (`FIRST_PAUSE`). "
                       "`whitening_promo_image` is approved but has an image header, which follow-ups cannot "
                       "fill: `usable` is false and `unsupported` says why.",
        "value": catalogue_now,
    },
    "TemplateCatalogueUsable": {
        "summary": "The same catalogue with `?usable=true`",
        "description": "Only the templates a follow-up can use now; `accounts` and `billing_note` are not "
                       "filtered.",
        "value": {**catalogue_now, "items": [t for t in catalogue_now["items"] if t["usable"]]},
    },
    "TemplateCatalogueNotRefreshed": {
        "summary": "An account named on the WhatsApp integration, not refreshed yet",
        "description": "Naming the account shows nothing: `POST .../whatsapp-templates/refresh` lists its "
                       "templates with the integration's token.",
        "value": {"items": [], "accounts": [{"waba_id": WABA_ID, "last_refreshed_at": None}],
                  "billing_note": BILLING_NOTE},
    },
    "TemplateCatalogueNoAccount": {
        "summary": "No WhatsApp integration names a business account",
        "value": {"items": [], "accounts": [], "billing_note": BILLING_NOTE},
    },
    "TemplateCatalogueRefreshed": {
        "summary": "Refreshed: Meta's whole list for the account, unfiltered",
        "value": catalogue_refreshed,
    },
    "NewTemplateSpanish": {
        "summary": "A Spanish version of the appointment reminder (one account: no `waba_id`)",
        "description": "Two numbered placeholders, one example each; a quick-reply button needs nothing at "
                       "send time. A follow-up would fill `{{1}}` and `{{2}}` with its two `parameters`.",
        "value": new_template_es_req,
    },
    "NewTemplateMarketing": {
        "summary": "A marketing template with header, footer and call-to-action buttons",
        "description": "`waba_id` names the account (required when the chatbot names several). Header, footer "
                       "and button URL have no placeholders: follow-ups fill body placeholders only.",
        "value": new_template_marketing_req,
    },
    "CreatedTemplate": {
        "summary": "Submitted: the new catalogue entry, pending Meta's review",
        "value": tpl_appointment_es,
    },
    "BadTemplateFilter": {
        "summary": "Invalid catalogue filters (`?status=live&usable=yes`)",
        "value": validation_problem([
            {"field": "status", "rule": "one_of",
             "message": "must be a template status such as APPROVED, PENDING, REJECTED, PAUSED or DISABLED"},
            {"field": "usable", "rule": "boolean", "message": "must be `true` or `false`"},
        ]),
    },
    "NewTemplateInvalid": {
        "summary": "A new template that breaks three rules (checked here; Meta was not asked)",
        "description": "`\"name\": \"Appointment Reminder\"`, a body with two placeholders and one example, and "
                       "a phone button without the `+`.",
        "value": validation_problem([
            {"field": "name", "rule": "template_name",
             "message": "must be 1 to 512 characters of lowercase letters, digits and underscores"},
            {"field": "body.examples", "rule": "example_count",
             "message": "give one example per placeholder: 2 placeholder(s), 1 example(s)"},
            {"field": "buttons[0].phone_number", "rule": "phone_number",
             "message": "must be + and 7 to 20 digits, e.g. +4930123456"},
        ]),
    },
    "NewTemplatePlaceholders": {
        "summary": "A body whose placeholders skip a number",
        "description": "`\"Hi {{1}}, your slot on {{3}} is free.\"`: numbered from `{{1}}` without gaps.",
        "value": validation_problem([
            {"field": "body.text", "rule": "sequential_placeholders",
             "message": "placeholders must be numbered from {{1}} without gaps"},
        ]),
    },
    "NewTemplateAccountRequired": {
        "summary": "No `waba_id`, and the chatbot names several business accounts",
        "value": validation_problem([
            {"field": "waba_id", "rule": "required",
             "message": f"this chatbot has several WhatsApp Business Accounts; name one of: {WABA_ID}, "
                        f"{OTHER_WABA_ID}"},
        ]),
    },
    "NewTemplateUnknownAccount": {
        "summary": "A `waba_id` that no WhatsApp integration of the chatbot names",
        "value": validation_problem([
            {"field": "waba_id", "rule": "unknown_account",
             "message": "no WhatsApp integration of this chatbot names this business account"},
        ]),
    },
    "TemplateRejectedByMeta": {
        "summary": "Meta refused the template: the name already exists in this language",
        "description": "Meta's subcode 2388024 is reported on `name`; `message` is Meta's user-facing message, "
                       "as Meta wrote it.",
        "value": problem("template-rejected", "Meta refused the template", 422,
                         "Meta refused the template (1 error(s)); nothing was created.",
                         [{"field": "name", "rule": "meta_rejected",
                           "message": "There is already Spanish content for this template. You can create a new "
                                      "template and try again."}]),
    },
    "NoBusinessAccount": {
        "summary": "No WhatsApp integration of the chatbot names a business account",
        "value": problem("no-business-account", "No WhatsApp Business Account connected", 409,
                         "Connect a WhatsApp integration with `whatsapp_business_account_id` first; templates "
                         "belong to that account."),
    },
    "IntegrationTokenRejected": {
        "summary": "Meta rejected the WhatsApp integration's token (code 190)",
        "value": problem("integration-token-rejected", "Integration token rejected", 409,
                         "Meta rejected the access token of the WhatsApp integration; update the integration's "
                         "token and retry."),
    },
    "BusinessAccountNotAccessible": {
        "summary": "Wrong business account id, or a token without whatsapp_business_management",
        "value": problem("business-account-not-accessible", "Business account not accessible", 409,
                         "Meta refused access to the WhatsApp Business Account with the integration's token: "
                         "check the account id and that the token has whatsapp_business_management "
                         "permission."),
    },
    "WhatsAppTemplatePausedDelivery": {
        "summary": "WhatsApp: Meta paused a template (`message_template_status_update`)",
        "description": "`entry[].id` is the WhatsApp Business Account, `entry[].time` (seconds) dates the "
                       "change. The catalogue's `new_patient_offer` (en_US) becomes `PAUSED` with "
                       "`status_reason` `FIRST_PAUSE` (`reason` is null, so `other_info.title` is used), "
                       "unless its status was set later than 13:31:40.",
        "value": whatsapp_template_paused_delivery,
    },
})

# ---------------------------------------------------------------- responses
responses.update({
    "BadJsonBody": problem_response(
        "Malformed request (`type: bad-request`): the body is not valid JSON or could not be read, or a path "
        "parameter does not decode to valid UTF-8. `detail` says which.",
        single_example={"type": "bad-request", "title": "Malformed request", "status": 400,
                        "detail": "body is not valid JSON: EOF while parsing an object at line 1 column 1"}),
    "TemplateChatbotNotFound": problem_response(
        "`type: not-found`: the chatbot id is not a valid id.",
        single_example=NOT_FOUND_EXAMPLE),
    "TemplateAccountConflict": problem_response(
        "The chatbot's WhatsApp business accounts cannot be used; nothing was changed. `type: "
        "no-business-account`: none of the chatbot's WhatsApp integrations names a business account (set "
        "`whatsapp_business_account_id` on one). `type: integration-token-rejected`: Meta rejected the "
        "integration's access token (Meta's code 190: invalid or expired); replace it with `PUT "
        ".../integrations/whatsapp/{account_id}`. `type: business-account-not-accessible`: Meta refused "
        "access to the account with that token: the account id is wrong, or the token lacks the "
        "`whatsapp_business_management` permission.",
        example_names=["NoBusinessAccount", "IntegrationTokenRejected", "BusinessAccountNotAccessible"]),
    "TemplateDirectoryUnavailable": problem_response(
        "`type: unavailable`: Meta kept throttling the request (retried with backoff first) or did not answer "
        "(a 5xx, a network failure, an unreadable answer, or a template list longer than 50 pages of 100), or "
        "the store could not complete the request. Nothing changed for the account concerned; retry later. "
        "The body carries no internal details.",
        single_example={"type": "unavailable", "title": "Temporarily unavailable", "status": 503,
                        "detail": "The service could not complete the request; retry later."}),
})

# ---------------------------------------------------------------- parameters
parameters.update({
    "TemplateStatusFilter": {
        "name": "status", "in": "query", "required": False,
        "description": "Only templates with this status, any case: `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, "
                       "`DISABLED`, `IN_APPEAL`, `PENDING_DELETION`, `DELETED`, `LIMIT_EXCEEDED`, `ARCHIVED`, "
                       "`FLAGGED` or `UNKNOWN` (`REINSTATED`, Meta's event name, means `APPROVED`). Anything else "
                       "is 422 (field `status`, rule `one_of`).",
        "schema": {"type": "string", "pattern": any_case(TEMPLATE_STATUSES), "examples": ["APPROVED", "paused"]},
    },
    "TemplateLanguageFilter": {
        "name": "language", "in": "query", "required": False,
        "description": "Only templates in this language: the code exactly as Meta spells it (`en_US` does "
                       "not match `en`).",
        "schema": {"type": "string", "examples": ["en_US"]},
    },
    "TemplateCategoryFilter": {
        "name": "category", "in": "query", "required": False,
        "description": "Only templates of this category, any case: `MARKETING`, `UTILITY` or `AUTHENTICATION`. "
                       "Anything else is 422 (field `category`, rule `one_of`). Templates of a category this "
                       "service does not know (`category: null`) match no category.",
        "schema": {"type": "string", "pattern": any_case(["MARKETING", "UTILITY", "AUTHENTICATION"]),
                   "examples": ["UTILITY"]},
    },
    "TemplateUsableFilter": {
        "name": "usable", "in": "query", "required": False,
        "description": "Only templates a follow-up can use now (`true`) or only the others (`false`); see "
                       "`usable`. Exactly `true` or `false`; anything else is 422 (field `usable`, rule "
                       "`boolean`).",
        "schema": {"type": "boolean"},
    },
})

# ---------------------------------------------------------------- schemas
schemas.update({
    "TemplateStatus": {
        "type": "string", "enum": TEMPLATE_STATUSES,
        "description": "A template's review state, as Meta names it. Only `APPROVED` and `FLAGGED` (approved, "
                       "but flagged for low quality: Meta disables it if the quality does not improve) can be "
                       "sent. `PENDING`: in Meta's review; `REJECTED`: refused by the review; `PAUSED`: paused "
                       "by Meta for low quality; `DISABLED`: disabled by Meta; `IN_APPEAL`, "
                       "`PENDING_DELETION`, `DELETED`, `LIMIT_EXCEEDED`, `ARCHIVED` as Meta describes them; "
                       "`UNKNOWN`: a status this service does not know (not sendable).",
    },
    "TemplateCategory": {
        "type": "string", "enum": TEMPLATE_CATEGORIES,
        "description": "What Meta bills a template as. Meta bills marketing and authentication templates on "
                       "every send, utility templates outside the 24-hour customer service window; follow-ups "
                       "send templates only past that window, so every template send of a follow-up is billed, "
                       "at the category's rate.",
    },
    "CatalogueTemplate": {
        "type": "object",
        "description": "One message template of a WhatsApp Business Account, as the catalogue knows it: listed "
                       "by Meta at the last refresh, or created here, with its status kept current by "
                       "status-update webhooks. Templates belong to the account, so every chatbot that linked "
                       "the account (by a refresh or a create) sees the same entries. A follow-up's "
                       "`whatsapp_template` names one by `name` and `language`.",
        "required": ["waba_id", "template_id", "name", "language", "category", "status", "status_reason",
                     "status_updated_at", "parameter_format", "body_text", "body_parameter_count", "usable",
                     "unsupported", "billing", "components"],
        "properties": {
            "waba_id": {"type": "string", "pattern": WABA_ID_PATTERN,
                        "description": "The WhatsApp Business Account (WABA) it belongs to.",
                        "examples": [WABA_ID]},
            "template_id": {"type": "string", "description": "Meta's id of the template.",
                            "examples": ["1274983650212345"]},
            "name": {"type": "string", "description": "The template's name, as a follow-up's "
                                                      "`whatsapp_template.name` names it.",
                     "examples": ["appointment_reminder"]},
            "language": {"type": "string", "description": "Its language code as Meta spells it; each language "
                                                          "of a template is its own entry.",
                         "examples": ["en_US"]},
            "category": {"oneOf": [ref("TemplateCategory"), {"type": "null"}],
                         "description": "`null` for a category this service does not know."},
            "status": ref("TemplateStatus"),
            "status_reason": {"type": ["string", "null"],
                              "description": "Meta's reason for the status, when it gave one: the rejection "
                                             "reason (e.g. `INVALID_FORMAT`) or the pause title (e.g. "
                                             "`FIRST_PAUSE`). `null` otherwise (Meta's `NONE` included).",
                              "examples": ["INVALID_FORMAT", "FIRST_PAUSE"]},
            "status_updated_at": date_time(
                "When the status was last set: by a refresh (its time), by the create here (its time), or by a "
                "status-update webhook (the entry's `time`); a webhook older than this never overwrites the "
                "status.", REFRESHED_AT),
            "parameter_format": {"type": "string", "enum": ["positional", "named"],
                                 "description": "How the body's placeholders are written: `positional` "
                                                "(`{{1}}`, `{{2}}`, …, the only format follow-ups fill) or "
                                                "`named` (`{{first_name}}`)."},
            "body_text": {"type": ["string", "null"],
                          "description": "The body text with its placeholders, for previews; `null` when Meta "
                                         "listed no body.",
                          "examples": [APPOINTMENT_BODY]},
            "body_parameter_count": {"type": "integer", "minimum": 0,
                                     "description": "The distinct body placeholders: the number of `parameters` "
                                                    "a follow-up using this template must configure.",
                                     "examples": [2]},
            "usable": {"type": "boolean",
                       "description": "Whether a follow-up can use it now: its status is `APPROVED` or `FLAGGED` "
                                      "and follow-ups can fill it (`unsupported` is null)."},
            "unsupported": {"type": ["string", "null"],
                            "description": "Why a follow-up cannot fill it, for people; `null` when it can. "
                                           "Follow-ups fill body placeholders only, so a template that needs "
                                           "a media or location header, a header placeholder, a URL button "
                                           "with a placeholder, a button that needs a value at send time "
                                           "(OTP, copy code, flow), or named body placeholders is listed here "
                                           "but cannot be set on a follow-up.",
                            "examples": [UNSUPPORTED_MEDIA_HEADER]},
            "billing": {"type": ["string", "null"], "enum": ["always", "outside_customer_service_window", None],
                        "description": "When Meta bills a send of it: `always` (marketing and authentication), "
                                       "`outside_customer_service_window` (utility: sends past the 24-hour "
                                       "window, which are all of a follow-up's template sends); `null` for a "
                                       "category this service does not know."},
            "components": {"type": ["array", "null"], "items": {"type": "object"},
                           "description": "The template's components (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`) "
                                          "as Meta listed them; for a template created here, as they were "
                                          "submitted. `null` only if the stored copy cannot be read."},
        },
    },
    "TemplateAccount": {
        "type": "object",
        "description": "A WhatsApp Business Account named on one of the chatbot's WhatsApp integrations.",
        "required": ["waba_id", "last_refreshed_at"],
        "properties": {
            "waba_id": {"type": "string", "pattern": WABA_ID_PATTERN, "examples": [WABA_ID]},
            "last_refreshed_at": {
                "oneOf": [date_time(), {"type": "null"}],
                "description": "When this chatbot last refreshed the account's catalogue or created a template "
                               "in it (either links the chatbot to the account). `null`: never, so none of the "
                               "account's templates are shown yet.",
            },
        },
    },
    "WhatsAppTemplateList": {
        "type": "object",
        "required": ["items", "accounts", "billing_note"],
        "properties": {
            "items": {"type": "array", "items": ref("CatalogueTemplate"),
                      "description": "The templates of the linked accounts that match the filters, by name, "
                                     "then language, then account."},
            "accounts": {"type": "array", "items": ref("TemplateAccount"),
                         "description": "Every account named on the chatbot's WhatsApp integrations, whatever "
                                        "the filters; empty when none names one."},
            "billing_note": {"type": "string", "const": BILLING_NOTE,
                             "description": "What template sends cost, in one paragraph, for people."},
        },
    },
    "NewWhatsAppTemplateRequest": {
        "type": "object",
        "title": "A new WhatsApp message template",
        "description": "A template to submit to Meta for review. Follow-ups fill body placeholders only, so "
                       "the header, footer and buttons take none. Every rule below is checked here first and "
                       "every broken one reported at once (422 `validation-failed`; Meta is not asked). Texts "
                       "are trimmed and must contain a non-whitespace character (rule `not_blank`); lengths "
                       "count characters (Unicode scalar values); a missing required field is rule "
                       "`required`; too long: rule `max_length`; a control character where none is allowed: "
                       "rule `no_control_characters`. Fields that are not listed here are refused, at any "
                       "level (rule `unknown_field`).",
        "required": ["name", "language", "category", "body"],
        "additionalProperties": False,
        "properties": {
            "waba_id": {
                "type": ["string", "null"],
                "description": "The WhatsApp Business Account to create it in: one named on the chatbot's "
                               "WhatsApp integrations (else rule `unknown_account`). Omitted or `null`: the "
                               "chatbot's only account; required when it names several (rule `required`; the "
                               "message lists them). The account is checked after the template's own rules "
                               "passed; a `waba_id` that is not a string is refused before anything else, alone "
                               "(rule `string`).",
                "examples": [WABA_ID],
            },
            "name": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": "^[a-z0-9_]+$",
                     "description": "1 to 512 lowercase letters, digits and underscores (rule `template_name`). "
                                    "Not trimmed. One name can exist in several languages.",
                     "examples": ["appointment_reminder"]},
            "language": {"type": "string", "pattern": "^[a-z]{2,3}(_[A-Z0-9]{2,4})?$",
                         "description": "The language code as Meta spells it (rule `language_code`).",
                         "examples": ["en_US", "es", "pt_BR"]},
            "category": {"type": "string",
                         "description": "`MARKETING` or `UTILITY`, any case (rule `one_of`). Authentication "
                                        "templates are refused: they are not follow-ups. Meta may review the "
                                        "template into another category; the response shows the category Meta "
                                        "answered.",
                         "examples": ["UTILITY", "MARKETING"]},
            "body": ref("NewTemplateBody"),
            "header": {"oneOf": [ref("NewTemplateTextPart"), {"type": "null"}],
                       "description": "Optional text header. Omitted or `null`: none."},
            "footer": {"oneOf": [ref("NewTemplateTextPart"), {"type": "null"}],
                       "description": "Optional footer. Omitted or `null`: none."},
            "buttons": {"type": ["array", "null"], "maxItems": 10, "items": ref("NewTemplateButton"),
                        "description": "Up to 10 buttons (rule `max_items` on `buttons`); errors of a button "
                                       "are reported at `buttons[i].…`, the first broken rule of each button. "
                                       "Omitted or `null`: none."},
        },
    },
    "NewTemplateBody": {
        "type": "object",
        "description": "The template's body, with its numbered placeholders and one example for each.",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 1024,
                     "description": "1 to 1024 characters; newlines and tabs allowed, other control characters "
                                    "are not. Placeholders are numbered, `{{1}}` to `{{n}}` without gaps (rule "
                                    "`sequential_placeholders`); named ones such as `{{first_name}}` are "
                                    "refused (rule `positional_placeholders`); the text may not start or end "
                                    "with a placeholder (rule `placeholder_at_edge`). A follow-up using the "
                                    "template configures one parameter per placeholder.",
                     "examples": [APPOINTMENT_BODY]},
            "examples": {"type": ["array", "null"],
                         "items": {"type": "string", "minLength": 1, "maxLength": 200},
                         "description": "One example value per placeholder, in order, for Meta's review "
                                        "(count: rule `example_count` on `body.examples`; omitted or `null`: "
                                        "none). Each "
                                        "1 to 200 characters on one line (errors at `body.examples[i]`). Checked "
                                        "only once the text's placeholders are valid.",
                         "examples": [["Kerry", "Tue 10:00"]]},
        },
    },
    "NewTemplateTextPart": {
        "type": "object",
        "description": "An optional text header or footer: up to 60 characters on one line, without "
                       "placeholders (rule `no_placeholders`: `{{` anywhere).",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 60, "examples": ["Bright Smile Dental"]},
        },
    },
    "NewTemplateButton": {
        "type": "object",
        "description": "A button. `quick_reply`: the customer's tap comes back as a message. `url`: opens "
                       "`url`. `phone_number`: calls `phone_number`. The field of another type is not read.",
        "required": ["type", "text"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "enum": ["quick_reply", "url", "phone_number"],
                     "description": "Rule `one_of` for anything else."},
            "text": {"type": "string", "minLength": 1, "maxLength": 25,
                     "description": "The button's label: up to 25 characters on one line.",
                     "examples": ["Book online"]},
            "url": {"type": "string", "maxLength": 2000,
                    "description": "`url` buttons: an `http://` or `https://` URL without whitespace, up to "
                                   "2000 characters, trimmed (rule `url`), without placeholders (rule "
                                   "`no_placeholders`).",
                    "examples": ["https://bright-smile.example/whitening"]},
            "phone_number": {"type": "string", "pattern": "^\\+[0-9]{7,20}$",
                             "description": "`phone_number` buttons: `+` and 7 to 20 digits, trimmed (rule "
                                            "`phone_number`).",
                             "examples": ["+15550783881"]},
        },
        "allOf": [
            {"if": {"properties": {"type": {"const": "url"}}, "required": ["type"]},
             "then": {"required": ["url"]}},
            {"if": {"properties": {"type": {"const": "phone_number"}}, "required": ["type"]},
             "then": {"required": ["phone_number"]}},
        ],
    },
})

# ---------------------------------------------------------------- operations
TEMPLATE_ACCOUNTS_NOTE = (
    "Templates belong to the WhatsApp Business Accounts (WABA) named on the chatbot's WhatsApp integrations "
    "(`whatsapp_business_account_id`), and are read and created with that integration's access token (the "
    "first such integration's, when several name the same account). A chatbot sees an account's templates "
    "once it has refreshed them, or created one there, with that token: naming an account alone shows "
    "nothing.")

paths.update({
    "/v1/chatbots/{chatbot_id}/whatsapp-templates": {
        "parameters": [ref("ChatbotId", "parameters")],
        "get": {
            "tags": TEMPLATE_TAG,
            "operationId": "listWhatsAppTemplates",
            "summary": "List the chatbot's WhatsApp templates",
            "description": "The chatbot's WhatsApp template catalogue as stored: no call to Meta (refresh for "
                           "that). " + TEMPLATE_ACCOUNTS_NOTE + " Filters are optional and combine with AND; "
                           "`accounts` lists every named account with its last refresh, whatever the filters, "
                           "and `billing_note` says what template sends cost. Items are ordered by name, then "
                           "language, then account. Use `?usable=true` for the templates a follow-up can use "
                           "now. A chatbot without named accounts gives empty lists, not 404.",
            "parameters": [ref("TemplateStatusFilter", "parameters"), ref("TemplateLanguageFilter", "parameters"),
                           ref("TemplateCategoryFilter", "parameters"), ref("TemplateUsableFilter", "parameters")],
            "responses": {
                "200": json_ok("The matching templates.", "WhatsAppTemplateList", examples_={
                    "catalogue": ref("TemplateCatalogue", "examples"),
                    "usable": ref("TemplateCatalogueUsable", "examples"),
                    "not_refreshed": ref("TemplateCatalogueNotRefreshed", "examples"),
                    "no_account": ref("TemplateCatalogueNoAccount", "examples"),
                }),
                "400": r("BadPathOrQuery"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("ChatbotNotFound"),
                "422": problem_response(
                    "`type: validation-failed`: a filter value is invalid (`status` not a template status: rule "
                    "`one_of`; `category` not MARKETING, UTILITY or AUTHENTICATION: rule `one_of`; `usable` not "
                    "`true`/`false`: rule `boolean`). Every invalid filter is reported at once.",
                    example_names=["BadTemplateFilter"]),
                "500": r("Internal"),
                "503": r("Unavailable"),
            },
        },
        "post": {
            "tags": TEMPLATE_TAG,
            "operationId": "createWhatsAppTemplate",
            "summary": "Create a WhatsApp template for Meta's review",
            "description": "Checks the template against this service's rules first (422 `validation-failed`, "
                           "every broken rule at once; Meta is not asked), then picks the account (`waba_id`, "
                           "or the chatbot's only one) and submits the template to Meta (`POST "
                           "/{waba-id}/message_templates`) with that account's WhatsApp integration token. Meta's "
                           "refusals come back as 422 `template-rejected`: each error has rule `meta_rejected`, "
                           "`message` is Meta's user-facing message, and `field` is the request field it "
                           "concerns (`name` for a name and language that already exist or are being deleted, "
                           "`body.text` for body and placeholder problems, the part Meta blamed otherwise, "
                           "`\"\"` when Meta did not say). Nothing is stored then.\n\n"
                           "Accepted, the template is added to the catalogue and returned (201), usually with "
                           "status `PENDING` while Meta reviews it; the status-update webhook tells when it is "
                           "`APPROVED` or `REJECTED` (a refresh shows it too). Its `components` are the ones "
                           "submitted, in Meta's shape. Creating links the chatbot to the account, like a refresh. "
                           "A 503 after the request reached Meta may mean Meta created the template anyway: "
                           "refresh before retrying (a second create of the same name and language is refused "
                           "by Meta on `name`). " + TEMPLATE_ACCOUNTS_NOTE,
            "requestBody": {
                "required": True,
                "description": "The template, as `application/json`.",
                "content": {"application/json": {
                    "schema": ref("NewWhatsAppTemplateRequest"),
                    "examples": {"spanish_reminder": ref("NewTemplateSpanish", "examples"),
                                 "marketing": ref("NewTemplateMarketing", "examples")}}},
            },
            "responses": {
                "201": json_ok("Submitted to Meta: the new catalogue entry.", "CatalogueTemplate",
                               examples_={"pending": ref("CreatedTemplate", "examples")}),
                "400": r("BadJsonBody"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("TemplateChatbotNotFound"),
                "409": r("TemplateAccountConflict"),
                "413": r("PayloadTooLarge"),
                "415": r("UnsupportedMediaType"),
                "422": problem_response(
                    "`type: validation-failed`: the body is JSON of the wrong shape (rule `type`; a field "
                    "that is not part of the API: rule `unknown_field`), breaks the rules of "
                    "`NewWhatsAppTemplateRequest` (all reported at once, Meta was not asked), or names no "
                    "usable account: `waba_id` omitted while the chatbot names several accounts (rule "
                    "`required`) or naming one that none of its WhatsApp integrations names (rule "
                    "`unknown_account`). Or `type: template-rejected`: Meta refused the template; `errors` "
                    "carry Meta's messages with rule `meta_rejected` on the field concerned (`\"\"` when Meta "
                    "did not say). Nothing was created either way.",
                    example_names=["NewTemplateInvalid", "NewTemplatePlaceholders", "NewTemplateAccountRequired",
                                   "NewTemplateUnknownAccount", "TemplateRejectedByMeta"]),
                "500": r("Internal"),
                "503": problem_response(
                    "`type: unavailable`: Meta kept throttling the request (retried with backoff first) or did "
                    "not answer, or the store could not complete the request; retry later. When the request "
                    "had reached Meta (a timeout or a dropped connection), Meta may have created the template: "
                    "refresh the catalogue before retrying. The body carries no internal details.",
                    single_example={"type": "unavailable", "title": "Temporarily unavailable", "status": 503,
                                    "detail": "The service could not complete the request; retry later."}),
            },
        },
    },
    "/v1/chatbots/{chatbot_id}/whatsapp-templates/refresh": {
        "parameters": [ref("ChatbotId", "parameters")],
        "post": {
            "tags": TEMPLATE_TAG,
            "operationId": "refreshWhatsAppTemplates",
            "summary": "Refresh the WhatsApp templates from Meta",
            "description": "For each account named on the chatbot's WhatsApp integrations, lists every page of "
                           "Meta's `GET /{waba-id}/message_templates` with that integration's token and makes it "
                           "the account's catalogue: listed templates are added or replaced (status as listed, "
                           "`status_updated_at` the refresh time), templates Meta no longer lists are removed. "
                           "Links the chatbot to each account (`last_refreshed_at`). Answers with the whole, "
                           "unfiltered catalogue. Accounts are refreshed one after the other: when one fails "
                           "(409, 503), that account and the ones after it are unchanged, the ones before stay "
                           "refreshed. Follow-ups are not changed; their `warnings` and the template check at "
                           "send time use the refreshed catalogue. No request body.",
            "responses": {
                "200": json_ok("The refreshed catalogue, unfiltered.", "WhatsAppTemplateList",
                               examples_={"refreshed": ref("TemplateCatalogueRefreshed", "examples")}),
                "400": r("BadPath"),
                "401": r("Unauthenticated"),
                "403": r("Forbidden"),
                "404": r("TemplateChatbotNotFound"),
                "409": r("TemplateAccountConflict"),
                "500": r("Internal"),
                "503": r("TemplateDirectoryUnavailable"),
            },
        },
    },
})

info_description = """\
Configure **follow-ups**: automatic messages that go out when a customer has stopped answering a chatbot \
conversation on WhatsApp, Instagram or Messenger, to pick the conversation up again or push a pending action \
forward. Follow-ups are configured **per chatbot**: every configuration route is under \
`/v1/chatbots/{chatbot_id}/`, and one follow-up works on every platform the chatbot has an integration for. \
Customer messages arrive through **Meta's webhook** (`/v1/webhooks/meta`); each conversation keeps a \
**log** of what was scheduled, sent, skipped or cancelled, and why. On WhatsApp, sends past 24 hours need an \
approved message template from the chatbot's **WhatsApp template catalogue** \
(`/v1/chatbots/{chatbot_id}/whatsapp-templates`), and Meta bills every template send.

## Authentication
Send `Authorization: Bearer <token>` on every `/v1/chatbots/...` request. A token grants access to **named \
chatbots** (or to all of them): a missing or unknown token is `401`, a valid token used for a chatbot it does \
not grant is `403`. The token and the grant are checked **before the request body is read**: on POST, PUT \
and PATCH a `401` or `403` comes before any `400`, `413`, `415` or `422` about the body, so a caller without \
access learns nothing from body validation. (Only a path that does not decode to valid UTF-8 is `400` before \
the grant can be checked; the token still comes first.) `/v1/health`, `/v1/openapi.json` and Meta's webhook \
`/v1/webhooks/meta` need no token; webhook deliveries are signed with the Meta app secret instead. \
Locally, tokens are configured as `token=chatbot1,chatbot2` (or `token=*`); on AWS, API Gateway's JWT \
authorizer verifies the token.

## At most 5 active follow-ups per chatbot
Creating, activating or editing a follow-up so that a sixth one would be active is refused with `409` \
(`type: active-limit-reached`), and nothing changes. A follow-up created without `active` is active. \
Lists report `active_count` and `active_limit`.

## The 24-hour window, clamping and warnings
Meta allows free-form messages only within 24 hours of the customer's last message. The service keeps a \
safety margin (15 minutes by default, so free-form text goes out at most 1425 minutes after the customer's \
last message). A manual delay past that point is **clamped** on Instagram and Messenger, and on WhatsApp when \
no template is set: the follow-up is still saved, each response shows the real delay per platform in \
`effective_delays`, and a `delay_clamped` entry in `warnings` says so for each platform concerned. On \
WhatsApp, an approved template (`whatsapp_template`) goes out past the window instead. It must be in the \
chatbot's template catalogue, `APPROVED` (or `FLAGGED`) and with as many `parameters` as body placeholders \
when the follow-up is saved with it (`422` otherwise), and it is checked again before every template send: a \
template Meta paused, disabled or removed since is not sent (`skipped`, reason `template_not_approved`) and \
the follow-up shows a `template_not_approved` or `template_not_in_catalogue` warning. Free-form messages \
inside the window are free; Meta bills every template send, which each follow-up's `cost` says.

**2 to 6 hours is usually the best delay.**

## Integrations, the webhook and conversation logs
Connect a WhatsApp number (its phone number id), a Facebook page or an Instagram account to a chatbot with \
`PUT /v1/chatbots/{chatbot_id}/integrations/{platform}/{account_id}` and its access token (write-only: never \
returned or logged). An account belongs to one chatbot at most (`409 account-taken`). Meta's webhook \
(`GET` handshake, signed `POST` deliveries, `X-Hub-Signature-256`) routes each event to the chatbot that has \
its account; events for other accounts are acknowledged and ignored. Every customer message newer than the \
conversation's newest starts a **silence period**: what was pending is cancelled and every active follow-up \
is scheduled from Meta's timestamp of the message. A follow-up created, activated or edited later applies from \
the next customer message; pending instances keep their time. Deactivating or deleting a follow-up cancels \
its pending instances in every conversation. `GET .../conversations/{conversation_id}/log` shows each \
decision, newest first (`customer_message`, `scheduled`, `cancelled`, `dropped` and `skipped` with their \
`reason`, `waiting`, `stopped`, `sent`, `failed`, `outcome_unknown`), paginated with `limit` and the \
`before` cursor.

## WhatsApp templates
Message templates belong to a **WhatsApp Business Account** (WABA), not to a number: name it on the \
chatbot's WhatsApp integration (`whatsapp_business_account_id`). `POST \
/v1/chatbots/{chatbot_id}/whatsapp-templates/refresh` lists the account's templates from Meta with that \
integration's token and stores them as the chatbot's **template catalogue** (naming an account alone shows \
nothing); `GET .../whatsapp-templates` reads it, filtered by `status`, `language`, `category` or `usable`; \
`POST .../whatsapp-templates` checks a new template, submits it to Meta for review and adds it to the \
catalogue, usually `PENDING`. Meta's `message_template_status_update` webhooks keep statuses current (approved, \
rejected, paused, disabled, …); an older update never overwrites a newer status. Each entry says whether a \
follow-up can use it (`usable`: approved, and only body placeholders to fill) and when Meta bills its sends \
(`billing`). Meta's refusals of the integration's token or of access to the account are `409` \
(`integration-token-rejected`, `business-account-not-accessible`; `no-business-account` when no integration \
names one); Meta's refusals of a new template are `422` (`template-rejected`) with Meta's messages. The local \
engine with its outbox (the default, `--messenger outbox`) asks no one: it keeps templates in `templates.json` \
in its data directory, and a created template stays `PENDING` until its `status` is edited there and the \
catalogue refreshed.

## Sending
When a follow-up comes due, the service first **re-checks** it without the judge and drops it (`dropped`, \
with its `reason`) when the customer wrote since (`stale`), the follow-up was deleted or deactivated, it \
already went out in this silence period (`already_sent`), the stop trigger was met (`conversation_stopped`) \
or the account is no longer connected. It then **claims the delivery**, so a follow-up never goes out \
twice, even when it comes due twice or concurrently, and asks the **judge once**: the offline judge by \
default (a deterministic classifier over keyword rules, not an LLM), Amazon Bedrock or an \
OpenAI-compatible LLM when one is configured. The \
judge may find the stop trigger met (`stopped`; everything else pending in the conversation is `cancelled` \
with `stop_trigger_met`), the description not applying (`skipped`), or, for an `ai` delay, ask to check \
again later (`waiting`); it writes the text of an `ai` message. A judge that is not sure holds the \
follow-up (`skipped`, `judge_unsure`). A judge failure is asked again later with backoff while a send is \
still possible (`waiting` with `judge_retry`), then skips the follow-up (`judge_failed`). Then the **24 h window** decides: free-form text inside it, the WhatsApp template after \
it (only while the template catalogue lists it as `APPROVED` or `FLAGGED`, else `skipped` with \
`template_not_approved`), else `skipped` (`window_closed`). Every outcome is logged: `sent`, `failed` (Meta refused; not \
retried), `skipped` (`opted_out`), or `outcome_unknown` (no answer from Meta; never retried); when Meta \
throttles, the same delivery is retried later. WhatsApp statuses then move a delivery forward (`delivered`, \
`read` or `failed`). `GET .../follow-ups/{follow_up_id}/deliveries` lists what a follow-up sent and \
`.../stats` counts its outcomes, with the **reply rate**: the share of sent follow-ups the customer answered \
within 24 hours. A delivery's `billed` says whether Meta bills it (a template send Meta accepted).

## Concurrency
Every follow-up has a `revision`, sent as a strong `ETag` (e.g. `"3"`). Send it back in `If-Match` on PUT or \
PATCH to change the follow-up only if nobody else did in between; otherwise the answer is `412`. `If-Match` \
must be a strong ETag (a quoted integer such as `"3"`) or `*`, which matches any revision; a weak tag \
(`W/"3"`) or anything else is `400`. A PUT or PATCH whose result is identical to the stored configuration \
(an empty PATCH `{}`, a repeated PUT) changes nothing: `200` with the current follow-up, same `revision` and \
same `updated_at`.

## Errors
Errors are RFC 9457 problem details (`application/problem+json`) with `type`, `title`, `status` and `detail`. \
Validation errors (`422`, `type: validation-failed`) list **every** broken rule at once in `errors`, each with \
the field's JSON path (`field`, e.g. `whatsapp_template.parameters[1].text`), a stable `rule` name and a \
`message`. Text lengths count characters (Unicode scalar values), not bytes, after trimming surrounding \
whitespace (an integration's `access_token` is measured in bytes). Other statuses: `400` malformed JSON, query or `If-Match`, or a path that is not valid UTF-8; `404` unknown follow-up, integration, conversation or platform; `409` active \
limit, concurrent change, an account connected to another chatbot (`account-taken`) or an unusable WhatsApp \
Business Account; `412` `If-Match` \
mismatch; `413` body over 64 KiB (1 MiB for the webhook); `415` body not sent as JSON; `503` store or \
scheduler unavailable, or Meta throttling or not answering a template call (retry later). The template \
catalogue adds `409` `no-business-account`, `integration-token-rejected` and \
`business-account-not-accessible`, and `422` `template-rejected` (Meta refused a new template; `errors` carry \
Meta's messages with rule `meta_rejected`). The webhook answers `401` (`invalid-signature`) for a missing or wrong \
signature and `403` (`verification-failed`) for a refused handshake. A path the API does not serve is `404` (`type: no-such-route`) and a \
method a path does not accept is `405` (`type: method-not-allowed`).
"""

# ---------------------------------------------------------------- dry run
nullable_string = {"type": ["string", "null"]}
schemas["DryRunRequest"] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["follow_up_id"],
    "properties": {"follow_up_id": {**FOLLOW_UP_ID_SCHEMA,
                                    "description": "The follow-up to try in this conversation (active or not)."}},
}
schemas["DryRun"] = {
    "type": "object",
    "description": "What the sender would do if the follow-up came due in this conversation now, by the same "
                   "checks, judge and decision as a real send. Nothing was claimed, scheduled, logged or sent.",
    "required": ["at", "platform", "silence_period", "action", "judge", "message", "window", "cost"],
    "properties": {
        "at": date_time("The time the dry run was evaluated at."),
        "platform": ref("Platform"),
        "silence_period": {"type": "integer", "minimum": 0},
        "action": {"type": "string", "enum": ["send", "wait", "stop", "skip"],
                   "description": "`send`: `message` would go out now. `wait`: the judge (an `ai` delay) or a "
                                  "judge failure's retry would look again at `wait_until`. `stop`: the stop "
                                  "trigger is met; nothing more would go out until the customer writes. `skip`: "
                                  "not sent in this silence period, see `reason`."},
        "reason": {"type": "string",
                   "enum": ["stale", "follow_up_deleted", "follow_up_inactive", "already_sent",
                            "conversation_stopped", "no_integration", "no_customer_message",
                            "description_does_not_apply", "window_closed", "judge_failed", "judge_unsure",
                            "opted_out", "template_not_approved"],
                   "description": "Why it is skipped (or, with `judge_failed`, waits for a retry)."},
        "detail": {"type": "string", "description": "The judge's unsure kind, or the template's state."},
        "wait_until": date_time("With `wait`: when it would be looked at again."),
        "judge": {
            "type": "object", "required": ["asked"],
            "description": "The judge's verdict. Not asked when a check before it decided (`asked: false`).",
            "properties": {
                "asked": {"type": "boolean"},
                "error": {"type": "string", "enum": ["timeout", "unavailable", "invalid_answer"]},
                "stop_trigger_met": {"type": "boolean"},
                "stop_reason": {"type": "string"},
                "description_applies": {"type": "boolean"},
                "applies_reason": {"type": "string"},
                "evidence": {"type": "object", "required": ["stop", "applies"],
                             "description": "Short quotes from the transcript each conclusion rests on.",
                             "properties": {"stop": {"type": "string"}, "applies": {"type": "string"}}},
                "unsure": {"type": "string", "description": "Why the judge held the follow-up."},
            },
        },
        "message": {
            "description": "The message that would go out (also for a template that is not sendable); `null` "
                           "when nothing would be sent.",
            "oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["sent_as", "text"],
                 "properties": {"sent_as": {"const": "text"}, "text": {"type": "string"}}},
                {"type": "object", "required": ["sent_as", "template_name", "language", "parameters"],
                 "properties": {"sent_as": {"const": "template"}, "template_name": {"type": "string"},
                                "language": {"type": "string"},
                                "parameters": {"type": "array", "items": {"type": "string"},
                                               "description": "As they would be sent to this customer."},
                                "body": {"type": "string",
                                         "description": "The template's body with the parameters filled in."},
                                "category": {"type": "string",
                                             "enum": ["marketing", "utility", "authentication"]}}},
            ],
        },
        "window": {
            "type": "object", "required": ["last_customer_message_at", "free_form_until", "state"],
            "properties": {
                "last_customer_message_at": {"oneOf": [date_time(), {"type": "null"}]},
                "free_form_until": {"oneOf": [date_time(), {"type": "null"}],
                                    "description": "The last moment a free-form message may go out (Meta's "
                                                   "window less the safety margin)."},
                "state": {"enum": ["free_form", "template", "closed", None],
                          "description": "`template`: past the free-form window, only an approved WhatsApp "
                                         "template may go out. `null` before the customer's first message."},
            },
        },
        "cost": {
            "type": "object", "required": ["meta_fee", "model_input_tokens", "model_output_tokens"],
            "properties": {
                "meta_fee": {"enum": ["free", "marketing", "utility", "authentication", "unknown", None],
                             "description": "Meta's pricing category of the send: `free` for a free-form "
                                            "reply in the customer service window and for every Messenger "
                                            "and Instagram message, else the template's category. `null` "
                                            "when nothing would be sent."},
                "model_input_tokens": {"type": "integer", "minimum": 0},
                "model_output_tokens": {"type": "integer", "minimum": 0,
                                        "description": "0 with the offline judge."},
            },
        },
    },
}
examples["DryRunSend"] = {"summary": "A custom text would go out now", "value": {
    "at": "2026-11-24T13:00:00Z", "platform": "whatsapp", "silence_period": 1, "action": "send",
    "judge": {"asked": True, "stop_trigger_met": False, "stop_reason": "no stop signal",
              "description_applies": True, "applies_reason": "asked about booking, no time chosen",
              "evidence": {"stop": "", "applies": "I'd like to book a cleaning"}},
    "message": {"sent_as": "text", "text": "Shall I book one of these? Tue 10:00 or Wed 15:00."},
    "window": {"last_customer_message_at": "2026-11-24T09:00:00Z", "free_form_until": "2026-11-25T08:45:00Z",
               "state": "free_form"},
    "cost": {"meta_fee": "free", "model_input_tokens": 812, "model_output_tokens": 96}}}
examples["DryRunSkipped"] = {"summary": "Already sent in this silence period", "value": {
    "at": "2026-11-24T14:00:00Z", "platform": "whatsapp", "silence_period": 1, "action": "skip",
    "reason": "already_sent", "judge": {"asked": False}, "message": None,
    "window": {"last_customer_message_at": "2026-11-24T09:00:00Z", "free_form_until": "2026-11-25T08:45:00Z",
               "state": "free_form"},
    "cost": {"meta_fee": None, "model_input_tokens": 0, "model_output_tokens": 0}}}
paths["/v1/chatbots/{chatbot_id}/conversations/{conversation_id}/dry-run"] = {
    "parameters": [ref("ChatbotId", "parameters"), ref("ConversationId", "parameters")],
    "post": {
        "tags": CONVERSATION_TAG,
        "operationId": "dryRunFollowUp",
        "summary": "Preview what a follow-up would do in a conversation now",
        "description": "Answers what the sender would do if the follow-up came due in this conversation right "
                       "now: send (with the message, free-form or template), wait (until when), stop or skip "
                       "(with the reason), the judge's reasons and evidence, the window's state and the "
                       "estimated cost. The judge is asked once (a model judge bills its tokens); nothing is "
                       "claimed, scheduled, logged or sent.",
        "requestBody": body_of("DryRunRequest", ["application/json"], "The follow-up to try.",
                               {"dry_run": {"value": {"follow_up_id": FU1}}}),
        "responses": {
            "200": {"description": "What would happen now.",
                    "content": {"application/json": {"schema": ref("DryRun"),
                                                     "examples": {n: ref(n, "examples")
                                                                  for n in ["DryRunSend", "DryRunSkipped"]}}}},
            "400": r("BadRequest"),
            "401": r("Unauthenticated"),
            "403": r("Forbidden"),
            "404": problem_response(
                "`type: not-found`: the chatbot id or the conversation id is not a valid id, or this chatbot "
                "has no such conversation, or no follow-up with `follow_up_id`.",
                single_example=NOT_FOUND_EXAMPLE),
            "413": r("PayloadTooLarge"),
            "415": r("UnsupportedMediaType"),
            "422": problem_response(
                "`type: validation-failed`: `follow_up_id` is missing, not a string or not a valid id, or "
                "the body has a field that is not part of the API.",
                single_example={"type": "validation-failed", "title": "Validation failed", "status": 422,
                                "detail": "1 field(s) broke a rule; nothing was changed.",
                                "errors": [{"field": "follow_up_id", "rule": "required",
                                            "message": "is required"}]}),
            "500": r("Internal"),
            "503": r("Unavailable"),
        },
    },
}


doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "Follow-up service API",
        "version": "1.0.0",
        "summary": "Configure automatic follow-up messages for chatbot conversations.",
        "description": info_description,
    },
    "servers": [
        {"url": "http://127.0.0.1:8080", "description": "The local engine (`followup-local`) at its default address."},
        {"url": "https://{api_host}", "description": "Your AWS deployment's API Gateway endpoint.",
         "variables": {"api_host": {"default": "api.example.com",
                                    "description": "Host name of the API Gateway endpoint."}}},
    ],
    "security": [{"bearerAuth": []}],
    "tags": [
        {"name": "Follow-ups", "description": "A chatbot's follow-up configurations."},
        {"name": "Deliveries", "description": "What each follow-up sent and how it went: its deliveries and "
                                              "its counts, with the reply rate."},
        {"name": "Integrations", "description": "The WhatsApp numbers, Facebook pages and Instagram accounts "
                                                "connected to a chatbot, with their write-only access tokens "
                                                "and, for WhatsApp, the business account that owns the "
                                                "number's templates."},
        {"name": "WhatsApp templates", "description": "The chatbot's WhatsApp template catalogue: the message "
                                                      "templates of the WhatsApp Business Accounts named on its "
                                                      "WhatsApp integrations, refreshed from Meta, created for "
                                                      "Meta's review, with their status, whether a follow-up can "
                                                      "use them, and what their sends cost. Follow-ups need an "
                                                      "approved one to send on WhatsApp past 24 hours."},
        {"name": "Conversations", "description": "A chatbot's conversations, their pending follow-ups and "
                                                 "their logs."},
        {"name": "Webhook", "description": "Meta's webhook for WhatsApp, Messenger and Instagram events; "
                                           "signed with the Meta app secret, no bearer token."},
        {"name": "Service", "description": "Health and this document; no authentication."},
    ],
    "paths": paths,
    "components": {
        "schemas": schemas,
        "responses": responses,
        "parameters": parameters,
        "examples": examples,
        "headers": headers,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A bearer token that grants access to named chatbots (or to all). Locally: "
                               "one of the tokens configured in `FOLLOWUP_API_TOKENS` / `--api-tokens`; on "
                               "AWS: a JWT accepted by API Gateway's authorizer.",
            }
        },
    },
}

with open(Path(__file__).resolve().parent / "openapi.json", "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write("\n")
