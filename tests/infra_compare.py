#!/usr/bin/env python3
"""Compare the SAM template (after the SAM transform) with the CDK app's synthesized template.

Usage:
  infra_compare.py SAM_TRANSLATED.json CDK.template.json [--aws-doc docs/aws.md] [-v]
  infra_compare.py --self-test SAM_TRANSLATED.json CDK.template.json [--aws-doc docs/aws.md]

Python standard library only. Both inputs are plain CloudFormation JSON: the SAM side is
translated offline first (tests/infra_sam_translate.py, aws-sam-translator), so this script
compares what CloudFormation would actually create, not SAM shorthand.

Intrinsic functions are brought to one canonical string form before comparing, so
`!Sub "${Table.Arn}/index/*"` (SAM) and `Fn::Join ["", [GetAtt Table.Arn, "/index/*"]]` (CDK)
are equal. The CDK app pins the logical IDs of the core resources to the SAM names, so
references compare one to one.

The two tools express the HTTP API differently (SAM: one OpenAPI Body; CDK: Route,
Integration and Authorizer resources) and CDK puts grants into AWS::IAM::Policy resources:
those are normalised to routes and to per-role permission sets, and compared as such.

Each check prints `ok` or `FAIL` with a diff; the last line is
`compare: N passed, M failed`; the exit status is non-zero on any failure.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from typing import Any, Callable

# Resource kinds that must exist with the same count on both sides.
CORE_KINDS = [
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Function",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
]
# Kinds that only one tool's way of expressing the same thing produces (compared through
# the normalised views: routes, permissions, per-role statements).
EXPRESSION_KINDS = {
    "AWS::Lambda::Permission",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::IAM::Policy",
}
# Pinned to the same logical IDs in both (infra/lib/followup-stack.ts: pinId).
PINNED_IDS = [
    "Table",
    "DeadLetterQueue",
    "DueQueue",
    "SchedulerDlq",
    "ScheduleGroup",
    "SchedulerRole",
    "FunctionsPolicy",
    "WebhookFunctionRole",
    "ApiFunctionRole",
    "SenderFunctionRole",
    "WebhookLogGroup",
    "ApiLogGroup",
    "SenderLogGroup",
    "WebhookFunction",
    "ApiFunction",
    "SenderFunction",
    "HttpApi",
    "DlqAlarm",
    "SchedulerDlqAlarm",
]
FUNCTIONS = {"webhook": "WebhookFunction", "api": "ApiFunction", "sender": "SenderFunction"}
# Each dead-letter queue and the alarm on its depth.
DLQ_ALARMS = {"DlqAlarm": "DeadLetterQueue", "SchedulerDlqAlarm": "SchedulerDlq"}
# What the scheduler role may do, all of it: deliver to the due queue, and dead-letter a
# fire it could not deliver.
SCHEDULER_ROLE_STATEMENTS = {
    ("Allow", "sqs:SendMessage", "${DueQueue.Arn}", ""),
    ("Allow", "sqs:SendMessage", "${SchedulerDlq.Arn}", ""),
}
# Environment values that must name one resource, on every function.
ENV_REFERENCES = {
    "FOLLOWUP_DUE_QUEUE_ARN": "${DueQueue.Arn}",
    "FOLLOWUP_SCHEDULER_ROLE_ARN": "${SchedulerRole.Arn}",
    "FOLLOWUP_SCHEDULER_DLQ_ARN": "${SchedulerDlq.Arn}",
}
OUTPUTS = ["WebhookUrl", "ApiUrl", "TableName", "DueQueueUrl", "DlqUrl"]
# Every route of the HTTP API, all of them: "METHOD /path" -> (function, behind the JWT
# authorizer). The console's static files are GET only and need no JWT (the page asks for a
# token and sends it to /v1/chatbots/..., where the authorizer checks it). No catch-all
# ($default, /{proxy+}): it would reach the api function around the authorizer.
ROUTES = {
    "GET /v1/webhooks/meta": ("WebhookFunction", False),
    "POST /v1/webhooks/meta": ("WebhookFunction", False),
    "ANY /v1/chatbots/{proxy+}": ("ApiFunction", True),
    "GET /v1/health": ("ApiFunction", False),
    "GET /v1/openapi.json": ("ApiFunction", False),
    "GET /console": ("ApiFunction", False),
    "GET /console/{proxy+}": ("ApiFunction", False),
}
CONSOLE_ROUTES = {"GET /console", "GET /console/{proxy+}"}
# An execute-api ARN as a Lambda permission's SourceArn, canonical: api, stage, method, path.
EXECUTE_API_ARN = re.compile(
    r"arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
    r"\$\{([A-Za-z0-9]+)\}/([^/]+)/([^/]+)(/.*)?"
)

# AWS managed policies a generated role may carry (SAM adds them to roles it creates).
AWS_MANAGED = {
    "AWSLambdaBasicExecutionRole": [
        ("Allow", a, "*", "") for a in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
    ],
    "AWSLambdaSQSQueueExecutionRole": [
        ("Allow", a, "*", "")
        for a in (
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        )
    ],
}


# --------------------------------------------------------------------------- canonical form
def canon(v: Any) -> Any:
    """Intrinsics to `${...}` strings; lists and dicts recursively."""
    if isinstance(v, dict):
        if len(v) == 1:
            (k, a), = v.items()
            if k == "Ref":
                return "${%s}" % a
            if k == "Fn::GetAtt":
                parts = a.split(".", 1) if isinstance(a, str) else a
                return "${%s.%s}" % (parts[0], canon(parts[1]))
            if k == "Fn::Sub":
                if isinstance(a, str):
                    return a
                text, mapping = a
                for name, val in mapping.items():
                    text = text.replace("${%s}" % name, str(canon(val)))
                return text
            if k == "Fn::Join":
                sep, parts = a
                parts = canon(parts)
                if isinstance(parts, list):
                    return sep.join(p if isinstance(p, str) else json.dumps(p, sort_keys=True) for p in parts)
                return "Join(%r,%s)" % (sep, parts)
            if k == "Fn::If":
                cond, yes, no = a
                return {"If": [cond, canon(yes), canon(no)]}
            if k in ("Fn::Select", "Fn::Split", "Fn::Not", "Fn::Equals", "Fn::And", "Fn::Or", "Condition"):
                return {k: canon(a)}
        return {k: canon(x) for k, x in v.items()}
    if isinstance(v, list):
        return [canon(x) for x in v]
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)):
        return str(v)
    return v


def as_list(v: Any) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def dumps(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def ref_id(v: Any) -> str | None:
    """Logical ID behind Ref X / GetAtt X.Y / ${X.Arn}-style canonical strings."""
    c = canon(v)
    if isinstance(c, str):
        m = re.fullmatch(r"\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}", c)
        if m:
            return m.group(1)
    return None


# --------------------------------------------------------------------------- template views
class View:
    def __init__(self, name: str, tpl: dict):
        self.name = name
        self.tpl = tpl
        self.res: dict[str, dict] = tpl.get("Resources", {})

    def of_type(self, kind: str) -> dict[str, dict]:
        return {k: v for k, v in self.res.items() if v.get("Type") == kind}

    def props(self, logical_id: str) -> dict:
        return self.res.get(logical_id, {}).get("Properties", {}) or {}

    # ---- IAM: every statement that applies to a role, as (effect, action, resource, condition)
    def role_statements(self, role_id: str) -> tuple[set[tuple[str, str, str, str]], list[str]]:
        problems: list[str] = []
        docs: list[dict] = []
        role = self.props(role_id)
        for pol in as_list(role.get("Policies")):
            docs.append(pol.get("PolicyDocument", {}))
        for arn in as_list(role.get("ManagedPolicyArns")):
            local = ref_id(arn)
            if local and local in self.res:
                docs.append(self.props(local).get("PolicyDocument", {}))
                continue
            name = str(canon(arn)).rsplit("/", 1)[-1]
            if name in AWS_MANAGED:
                docs.append({"_expanded": AWS_MANAGED[name]})
            else:
                problems.append(f"unknown managed policy {canon(arn)} on {role_id}")
        for lid, r in self.res.items():
            if r.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                roles = [ref_id(x) for x in as_list(r.get("Properties", {}).get("Roles"))]
                if role_id in roles:
                    docs.append(r["Properties"].get("PolicyDocument", {}))
        out: set[tuple[str, str, str, str]] = set()
        for doc in docs:
            if "_expanded" in doc:
                out.update(doc["_expanded"])
                continue
            for st in as_list(doc.get("Statement")):
                if "NotAction" in st or "NotResource" in st or "NotPrincipal" in st:
                    problems.append(f"{role_id}: NotAction/NotResource/NotPrincipal not supported here")
                cond = dumps(canon(st["Condition"])) if st.get("Condition") else ""
                for a in as_list(st.get("Action")):
                    for r in as_list(canon(st.get("Resource"))):
                        out.add((st.get("Effect", "Allow"), a, r if isinstance(r, str) else dumps(r), cond))
        return out, problems

    # ---- HTTP API as routes: "METHOD /path" -> {function, auth, payload}
    def routes(self) -> tuple[dict[str, dict], dict[str, dict]]:
        routes: dict[str, dict] = {}
        auths: dict[str, dict] = {}
        for api_id, api in self.of_type("AWS::ApiGatewayV2::Api").items():
            body = api.get("Properties", {}).get("Body")
            if not body:
                continue
            schemes = body.get("components", {}).get("securitySchemes", {})
            for name, sch in schemes.items():
                a = sch.get("x-amazon-apigateway-authorizer", {})
                jwt = a.get("jwtConfiguration", {})
                auths[name] = {
                    "type": str(a.get("type", "")).upper(),
                    "issuer": canon(jwt.get("issuer")),
                    "audience": canon(jwt.get("audience")),
                    "identitySource": as_list(canon(a.get("identitySource"))),
                }
            root_security = body.get("security")
            for path, methods in body.get("paths", {}).items():
                for m, op in methods.items():
                    method = "ANY" if m == "x-amazon-apigateway-any-method" else m.upper()
                    integ = op.get("x-amazon-apigateway-integration", {})
                    fn = re.search(r"functions/\$\{([A-Za-z0-9]+)\.Arn\}", str(canon(integ.get("uri"))))
                    sec = op.get("security", root_security) or []
                    names = [n for s in sec for n in s]
                    auth = "NONE"
                    if names and names != ["NONE"]:
                        auth = auths.get(names[0], {}).get("type", "?") + ":" + names[0]
                    routes[f"{method} {path}"] = {
                        "function": fn.group(1) if fn else str(canon(integ.get("uri"))),
                        "auth": auth,
                        "payload": str(canon(integ.get("payloadFormatVersion"))),
                    }
        integrations = self.of_type("AWS::ApiGatewayV2::Integration")
        for aid, a in self.of_type("AWS::ApiGatewayV2::Authorizer").items():
            p = a["Properties"]
            jwt = p.get("JwtConfiguration", {})
            auths[p.get("Name", aid)] = {
                "type": p.get("AuthorizerType", ""),
                "issuer": canon(jwt.get("Issuer")),
                "audience": canon(jwt.get("Audience")),
                "identitySource": as_list(canon(p.get("IdentitySource"))),
                "_id": aid,
            }
        by_id = {v.get("_id"): k for k, v in auths.items() if v.get("_id")}
        for _, r in self.of_type("AWS::ApiGatewayV2::Route").items():
            p = r["Properties"]
            target = str(canon(p.get("Target", "")))
            m = re.fullmatch(r"integrations/\$\{([A-Za-z0-9]+)\}", target)
            integ = integrations.get(m.group(1), {}).get("Properties", {}) if m else {}
            fn = ref_id(integ.get("IntegrationUri"))
            auth = p.get("AuthorizationType", "NONE")
            if auth != "NONE":
                auth += ":" + by_id.get(ref_id(p.get("AuthorizerId")), "?")
            routes[p["RouteKey"]] = {
                "function": fn or str(canon(integ.get("IntegrationUri"))),
                "auth": auth,
                "payload": str(canon(integ.get("PayloadFormatVersion"))),
            }
        for v in auths.values():
            v.pop("_id", None)
        return routes, auths


# --------------------------------------------------------------------------- docs/aws.md
def documented_env(path: str) -> dict[str, set[str]]:
    """Env var names per function from the 'Function environment' table of docs/aws.md."""
    want: dict[str, set[str]] = {f: set() for f in FUNCTIONS}
    in_table = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                in_table = line.strip() == "## Function environment"
                continue
            if not in_table or not line.startswith("| `"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            names = re.findall(r"`([A-Z0-9_]+)`", cells[0])
            who = [w.strip() for w in cells[1].split(",")]
            targets = list(FUNCTIONS) if who == ["all"] else who
            for t in targets:
                if t not in want:
                    raise SystemExit(f"docs table names an unknown function {t!r}")
                want[t].update(names)
    return want


# --------------------------------------------------------------------------- checks
class Checker:
    def __init__(self, sam: View, cdk: View, aws_doc: str | None, verbose: bool):
        self.sam, self.cdk, self.aws_doc, self.verbose = sam, cdk, aws_doc, verbose
        self.passed = 0
        self.failed = 0
        self.failures: list[str] = []
        self.notes: list[str] = []

    def check(self, name: str, fn: Callable[[], list[str]]) -> None:
        try:
            problems = fn()
        except Exception as e:  # a malformed template is a failure, not a crash
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            self.failed += 1
            self.failures.append(name)
            print(f"FAIL {name}")
            for p in problems:
                print(f"       {p}")
        else:
            self.passed += 1
            print(f"ok   {name}")
        for n in self.notes:
            print(f"       {n}")
        self.notes = []

    @staticmethod
    def diff(what: str, a: Any, b: Any, names: tuple[str, str] = ("SAM", "CDK")) -> list[str]:
        if a == b:
            return []
        na, nb = names
        if isinstance(a, dict) and isinstance(b, dict):
            out = []
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    out.append(f"{what}.{k}: {na}={dumps(a.get(k))}  {nb}={dumps(b.get(k))}")
            return out
        if isinstance(a, (set, frozenset)) and isinstance(b, (set, frozenset)):
            out = [f"{what}: only in {na}: {x}" for x in sorted(a - b, key=str)]
            out += [f"{what}: only in {nb}: {x}" for x in sorted(b - a, key=str)]
            return out
        return [f"{what}: {na}={dumps(a)}  {nb}={dumps(b)}"]

    # ---- resource kinds
    def kinds(self) -> list[str]:
        out = []
        for k in CORE_KINDS:
            a, b = len(self.sam.of_type(k)), len(self.cdk.of_type(k))
            if a != b or a == 0:
                out.append(f"{k}: SAM {a}, CDK {b}")
        for v in (self.sam, self.cdk):
            extra = {r["Type"] for r in v.res.values()} - set(CORE_KINDS) - EXPRESSION_KINDS
            if extra:
                out.append(f"{v.name} has resource kinds not compared: {sorted(extra)}")
        return out

    def pinned(self) -> list[str]:
        out = []
        for lid in PINNED_IDS:
            a = self.sam.res.get(lid, {}).get("Type")
            b = self.cdk.res.get(lid, {}).get("Type")
            if not a or a != b:
                out.append(f"{lid}: SAM {a}, CDK {b}")
        return out

    def same_props(self, lid: str, keys: list[str], defaults: dict | None = None) -> list[str]:
        defaults = defaults or {}
        pa, pb = self.sam.props(lid), self.cdk.props(lid)
        a = {k: canon(pa.get(k, defaults.get(k))) for k in keys}
        b = {k: canon(pb.get(k, defaults.get(k))) for k in keys}
        for attr in ("DeletionPolicy", "UpdateReplacePolicy"):
            a[attr] = self.sam.res[lid].get(attr, "Delete")
            b[attr] = self.cdk.res[lid].get(attr, "Delete")
        return self.diff(lid, a, b)

    def table(self) -> list[str]:
        def view(v: View) -> dict:
            p = v.props("Table")
            return {
                "BillingMode": p.get("BillingMode"),
                "KeySchema": canon(p.get("KeySchema")),
                "AttributeDefinitions": sorted(canon(p.get("AttributeDefinitions", [])), key=dumps),
                "GlobalSecondaryIndexes": sorted(canon(p.get("GlobalSecondaryIndexes", [])), key=dumps),
                "TimeToLiveSpecification": canon(p.get("TimeToLiveSpecification")),
                "PointInTimeRecoverySpecification": canon(p.get("PointInTimeRecoverySpecification")),
                "SSESpecification": canon(p.get("SSESpecification")),
                "LocalSecondaryIndexes": canon(p.get("LocalSecondaryIndexes")),
                "StreamSpecification": canon(p.get("StreamSpecification")),
                "TableName": canon(p.get("TableName")),
                "DeletionPolicy": v.res["Table"].get("DeletionPolicy"),
                "UpdateReplacePolicy": v.res["Table"].get("UpdateReplacePolicy"),
            }

        a, b = view(self.sam), view(self.cdk)
        out = self.diff("Table", a, b)
        # docs/aws.md, on both sides
        expect = {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": "true"},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": "true"},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
        for side, v in (("SAM", a), ("CDK", b)):
            for k, want in expect.items():
                if v[k] != want:
                    out.append(f"{side} Table.{k} = {dumps(v[k])}, docs/aws.md wants {dumps(want)}")
            if not (v["SSESpecification"] or {}).get("SSEEnabled") == "true":
                out.append(f"{side} Table: SSE not enabled")
            names = sorted(g["IndexName"] for g in v["GlobalSecondaryIndexes"])
            if names != ["gsi1", "gsi2"]:
                out.append(f"{side} Table GSIs {names}, want gsi1, gsi2")
            for g in v["GlobalSecondaryIndexes"]:
                n = g["IndexName"]
                want_keys = [
                    {"AttributeName": f"{n}pk", "KeyType": "HASH"},
                    {"AttributeName": f"{n}sk", "KeyType": "RANGE"},
                ]
                if g.get("KeySchema") != want_keys or g.get("Projection") != {"ProjectionType": "ALL"}:
                    out.append(f"{side} Table index {n}: {dumps(g)}")
            attrs = {d["AttributeName"]: d["AttributeType"] for d in v["AttributeDefinitions"]}
            if attrs != {k: "S" for k in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")}:
                out.append(f"{side} Table attributes {attrs}")
        return out

    def queues(self) -> list[str]:
        keys = [
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "RedrivePolicy",
            "SqsManagedSseEnabled",
            "KmsMasterKeyId",
            "FifoQueue",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
        ]
        out = []
        for lid in ("DueQueue", "DeadLetterQueue", "SchedulerDlq"):
            out += self.same_props(lid, keys)
        for side, v in (("SAM", self.sam), ("CDK", self.cdk)):
            for lid in ("DeadLetterQueue", "SchedulerDlq"):
                p = canon(v.props(lid))
                if p.get("MessageRetentionPeriod") != "1209600":
                    out.append(f"{side} {lid}: retention {p.get('MessageRetentionPeriod')}, want 14 days (1209600)")
                if p.get("RedrivePolicy") or p.get("FifoQueue") == "true":
                    out.append(f"{side} {lid}: a dead-letter queue must be a standard queue without redrive")
                if p.get("SqsManagedSseEnabled") != "true":
                    out.append(f"{side} {lid}: SQS-managed encryption not enabled")
            due = v.props("DueQueue")
            redrive = canon(due.get("RedrivePolicy") or {})
            if redrive.get("deadLetterTargetArn") != "${DeadLetterQueue.Arn}" or redrive.get("maxReceiveCount") != "5":
                out.append(f"{side} DueQueue redrive {dumps(redrive)}: want DLQ, maxReceiveCount 5")
            sender_timeout = int(v.props("SenderFunction").get("Timeout", 3))
            visibility = int(due.get("VisibilityTimeout", 30))
            if visibility < 6 * sender_timeout:
                out.append(f"{side} DueQueue visibility {due.get('VisibilityTimeout')} < 6 x sender timeout {sender_timeout}")
            # The sender checks its time limits at cold start from these variables: they
            # must say what the template actually set.
            env = canon(v.props("SenderFunction").get("Environment", {}).get("Variables", {}))
            told = {
                "FOLLOWUP_SENDER_TIMEOUT_SECONDS": str(sender_timeout),
                "FOLLOWUP_DUE_VISIBILITY_TIMEOUT_SECONDS": str(visibility),
            }
            for var, want in told.items():
                if str(env.get(var)) != want:
                    out.append(f"{side} SenderFunction {var} = {env.get(var)}, the template sets {want}")
            lease = env.get("FOLLOWUP_CLAIM_LEASE_SECONDS")
            if lease is None or not (sender_timeout <= int(lease) < visibility):
                out.append(f"{side} SenderFunction FOLLOWUP_CLAIM_LEASE_SECONDS = {lease}: want timeout <= lease < visibility")
        return out

    def schedule_group(self) -> list[str]:
        return self.same_props("ScheduleGroup", ["Name"])

    def scheduler_role(self) -> list[str]:
        out = []
        views = {}
        for side, v in (("SAM", self.sam), ("CDK", self.cdk)):
            trust = canon(v.props("SchedulerRole").get("AssumeRolePolicyDocument", {}))
            sts = as_list(trust.get("Statement"))
            views[side] = (dumps(sts), v.role_statements("SchedulerRole"))
            ok_trust = (
                len(sts) == 1
                and as_list(sts[0].get("Principal", {}).get("Service")) == ["scheduler.amazonaws.com"]
                and as_list(sts[0].get("Action")) == ["sts:AssumeRole"]
                and sts[0].get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount") == "${AWS::AccountId}"
            )
            if not ok_trust:
                out.append(f"{side} SchedulerRole trust: {dumps(sts)}")
            stmts, problems = views[side][1]
            out += [f"{side} {p}" for p in problems]
            if stmts != SCHEDULER_ROLE_STATEMENTS:
                out += self.diff(
                    f"{side} SchedulerRole vs sqs:SendMessage to the due queue and scheduler DLQ only",
                    stmts,
                    SCHEDULER_ROLE_STATEMENTS,
                )
        out += self.diff("SchedulerRole trust", views["SAM"][0], views["CDK"][0])
        return out

    def functions(self) -> list[str]:
        out = []
        keys = ["Runtime", "Architectures", "Handler", "MemorySize", "Timeout", "Role", "LoggingConfig", "PackageType"]
        for short, lid in FUNCTIONS.items():
            out += self.same_props(lid, keys)
            for side, v in (("SAM", self.sam), ("CDK", self.cdk)):
                p = v.props(lid)
                if p.get("Runtime") != "provided.al2023" or as_list(p.get("Architectures")) != ["arm64"]:
                    out.append(f"{side} {lid}: runtime {p.get('Runtime')} {p.get('Architectures')}")
                if str(p.get("MemorySize")) != "256":
                    out.append(f"{side} {lid}: memory {p.get('MemorySize')}")
                want_timeout = {"webhook": "10", "api": "29", "sender": "180"}[short]
                if str(p.get("Timeout")) != want_timeout:
                    out.append(f"{side} {lid}: timeout {p.get('Timeout')}, want {want_timeout}")
        return out

    def environment(self) -> list[str]:
        out = []
        want = documented_env(self.aws_doc) if self.aws_doc else None
        for short, lid in FUNCTIONS.items():
            ea = canon(self.sam.props(lid).get("Environment", {}).get("Variables", {}))
            eb = canon(self.cdk.props(lid).get("Environment", {}).get("Variables", {}))
            out += self.diff(f"{lid}.Environment", ea, eb)
            if want is not None:
                for side, env in (("SAM", ea), ("CDK", eb)):
                    if set(env) != want[short]:
                        out += self.diff(
                            f"{side} {lid} env vars vs docs/aws.md", set(env), want[short]
                        )
            for side, env in (("SAM", ea), ("CDK", eb)):
                for k, want_ref in ENV_REFERENCES.items():
                    if env.get(k) != want_ref:
                        out.append(f"{side} {lid}: {k} = {dumps(env.get(k))}, want {want_ref}")
                for k, val in env.items():
                    if re.search(r"(?i)secret|token|api_key|password", k) and k != "FOLLOWUP_SECRETS_PREFIX":
                        out.append(f"{side} {lid}: {k} looks like a secret in an env var")
        return out

    def http_api(self) -> list[str]:
        ra, aa = self.sam.routes()
        rb, ab = self.cdk.routes()
        out = self.diff("routes", ra, rb)
        out += self.diff("authorizers", aa, ab)
        want = ROUTES
        for side, routes, auths in (("SAM", ra, aa), ("CDK", rb, ab)):
            got = {k: (v["function"], v["auth"] != "NONE") for k, v in routes.items()}
            if got != want:
                out += self.diff(
                    f"{side} routes (function, JWT) vs ROUTES", set(got.items()), set(want.items()), (side, "ROUTES")
                )
            for k, v in routes.items():
                path = k.split(" ", 1)[-1]
                if path in ("$default", "/{proxy+}"):  # CDK "$default", SAM "ANY $default"
                    out.append(f"{side} {k}: a catch-all route reaches {v['function']} around the JWT authorizer")
                if path.startswith("/v1/chatbots") and not v["auth"].startswith("JWT:"):
                    out.append(f"{side} {k}: a config route must be behind the JWT authorizer (auth {v['auth']})")
                if path == "/console" or path.startswith("/console/"):
                    if k not in CONSOLE_ROUTES:
                        out.append(f"{side} {k}: the console serves GET /console and GET /console/{{proxy+}} only")
                    if v["auth"] != "NONE":
                        out.append(f"{side} {k}: the console's files need no JWT (the page asks for the token), auth {v['auth']}")
                    if v["function"] != "ApiFunction":
                        out.append(f"{side} {k}: the console is served by the api function, not {v['function']}")
                if v["auth"] != "NONE" and not v["auth"].startswith("JWT:"):
                    out.append(f"{side} {k}: authorizer {v['auth']} is not a JWT authorizer")
                if v["payload"] != "2.0":
                    out.append(f"{side} {k}: payload format {v['payload']}")
            for name, a in auths.items():
                if a["issuer"] != "${JwtIssuer}" or a["audience"] != "${JwtAudience}":
                    out.append(f"{side} authorizer {name}: {dumps(a)}")
        return out

    def stage(self) -> list[str]:
        def view(v: View) -> list:
            return sorted(
                dumps({k: canon(p["Properties"].get(k)) for k in ("StageName", "AutoDeploy", "ApiId")})
                for p in v.of_type("AWS::ApiGatewayV2::Stage").values()
            )

        return self.diff("stages", view(self.sam), view(self.cdk))

    def permissions(self) -> list[str]:
        """Who may invoke, and how narrowly: each permission is scoped to one route's path
        (path variables as `*`) of its own function, and each route has one. SAM also scopes
        the method (`/*/GET/console`), CDK's HttpLambdaIntegration the path only
        (`/*/*/console`): methods are checked against the routes, not compared."""

        def norm(path: str) -> str:
            return re.sub(r"\{[^}/]*\}", "*", path)

        def view(v: View) -> tuple[set, set, list[str]]:
            who, scopes, problems = set(), set(), []
            for lid, p in v.of_type("AWS::Lambda::Permission").items():
                pr = p["Properties"]
                fn = ref_id(pr.get("FunctionName"))
                src = str(canon(pr.get("SourceArn", "")))
                m = EXECUTE_API_ARN.fullmatch(src)
                api = m.group(1) if m else src
                who.add((fn, pr.get("Principal"), pr.get("Action"), api))
                if not m or not m.group(4):
                    problems.append(f"{v.name} {lid}: {fn} invocable by {src or 'any source'}, not one route")
                    continue
                method, path = m.group(3), norm(m.group(4))
                scopes.add((fn, path))
                methods = {
                    k.split(" ", 1)[0]
                    for k, r in v.routes()[0].items()
                    if r["function"] == fn and norm(k.split(" ", 1)[-1]) == path
                }
                if method != "*" and method not in methods and "ANY" not in methods:
                    problems.append(f"{v.name} {lid}: {fn} invocable by {method} {path}, routes {sorted(methods)}")
            return who, scopes, problems

        (a, sa, pa), (b, sb, pb) = view(self.sam), view(self.cdk)
        out = self.diff("invoke permissions (function, principal, action, api)", a, b)
        out += self.diff("invoke permission scopes (function, path)", sa, sb)
        out += pa + pb
        for side, s in (("SAM", a), ("CDK", b)):
            for fn, principal, action, api in s:
                if principal != "apigateway.amazonaws.com" or action != "lambda:InvokeFunction" or api != "HttpApi":
                    out.append(f"{side} unexpected permission {fn} {principal} {action} {api}")
        for side, v, scopes in (("SAM", self.sam, sa), ("CDK", self.cdk, sb)):
            routes = {
                (r["function"], norm(k.split(" ", 1)[-1]))
                for k, r in v.routes()[0].items()
                if k.split(" ", 1)[-1] != "$default"  # no path to scope to; the route check refuses it
            }
            out += self.diff(
                f"{side} invoke permission scopes vs routes (function, path)",
                scopes,
                routes,
                (f"{side} permissions", f"{side} routes"),
            )
        return out

    def event_source(self) -> list[str]:
        keys = [
            "EventSourceArn",
            "FunctionName",
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "FunctionResponseTypes",
            "ScalingConfig",
            "Enabled",
            "FilterCriteria",
        ]

        def view(v: View) -> list:
            return [{k: canon(m["Properties"].get(k)) for k in keys} for m in v.of_type("AWS::Lambda::EventSourceMapping").values()]

        a, b = view(self.sam), view(self.cdk)
        out = self.diff("event source", a, b)
        for side, ms in (("SAM", a), ("CDK", b)):
            for m in ms:
                if m["FunctionName"] != "${SenderFunction}" or m["EventSourceArn"] != "${DueQueue.Arn}":
                    out.append(f"{side} event source {dumps(m)}")
                if m["FunctionResponseTypes"] != ["ReportBatchItemFailures"] or m["BatchSize"] != "10":
                    out.append(f"{side} event source: want ReportBatchItemFailures and BatchSize 10: {dumps(m)}")
                if (m["ScalingConfig"] or {}).get("MaximumConcurrency") != "${SenderMaxConcurrency}":
                    out.append(f"{side} event source: ScalingConfig {dumps(m['ScalingConfig'])}")
        return out

    def alarm(self) -> list[str]:
        keys = [
            "Namespace",
            "MetricName",
            "Dimensions",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "AlarmActions",
            "OKActions",
            "AlarmDescription",
        ]
        out = []
        for lid, queue in DLQ_ALARMS.items():
            out += self.same_props(lid, keys)
            for side, v in (("SAM", self.sam), ("CDK", self.cdk)):
                p = canon(v.props(lid))
                if (
                    p.get("Namespace") != "AWS/SQS"
                    or p.get("MetricName") != "ApproximateNumberOfMessagesVisible"
                    or p.get("Dimensions") != [{"Name": "QueueName", "Value": "${%s.QueueName}" % queue}]
                    or p.get("ComparisonOperator") != "GreaterThanOrEqualToThreshold"
                    or float(p.get("Threshold", 0)) != 1.0
                ):
                    out.append(f"{side} {lid} does not watch {queue} depth >= 1: {dumps(p)}")
                if p.get("AlarmActions") != {"If": ["HasAlarmTopic", ["${AlarmTopicArn}"], "${AWS::NoValue}"]}:
                    out.append(f"{side} {lid}: AlarmActions {dumps(p.get('AlarmActions'))}, want AlarmTopicArn if set")
        return out

    def log_groups(self) -> list[str]:
        out = []
        for lid in ("WebhookLogGroup", "ApiLogGroup", "SenderLogGroup"):
            out += self.same_props(lid, ["LogGroupName", "RetentionInDays", "KmsKeyId"])
            if canon(self.sam.props(lid).get("RetentionInDays")) != "${LogRetentionDays}":
                out.append(f"{lid}: retention is not the LogRetentionDays parameter")
        return out

    def iam(self) -> list[str]:
        out = []
        for short, lid in FUNCTIONS.items():
            roles = {side: ref_id(v.props(lid).get("Role")) for side, v in (("SAM", self.sam), ("CDK", self.cdk))}
            sa, pa = self.sam.role_statements(roles["SAM"])
            sb, pb = self.cdk.role_statements(roles["CDK"])
            out += [f"SAM {p}" for p in pa] + [f"CDK {p}" for p in pb]
            acts_a = {a for e, a, _, _ in sa if e == "Allow"}
            acts_b = {a for e, a, _, _ in sb if e == "Allow"}
            out += self.diff(f"{lid} actions", acts_a, acts_b)
            out += self.diff(f"{lid} role statements (effect, action, resource, condition)", sa, sb)
            for side, s in (("SAM", sa), ("CDK", sb)):
                for eff, act, res, _ in s:
                    if act == "dynamodb:Scan" or act.endswith(":*") or act == "*":
                        out.append(f"{side} {lid}: {act} is not allowed")
                    if res == "*":
                        out.append(f"{side} {lid}: {act} on every resource")
                acts = {a for e, a, _, _ in s if e == "Allow"}
                need = {
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:Query",
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule",
                    "iam:PassRole",
                    "sqs:SendMessage",
                    "ssm:GetParameters",
                }
                if short == "sender":
                    need |= {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
                if need - acts:
                    out.append(f"{side} {lid}: missing {sorted(need - acts)}")
                for eff, act, res, cond in s:
                    if act == "iam:PassRole" and (res != "${SchedulerRole.Arn}" or "scheduler.amazonaws.com" not in cond):
                        out.append(f"{side} {lid}: PassRole on {res} {cond}")
                    if act.startswith("scheduler:") and not res.endswith(":schedule/${ScheduleGroup}/*"):
                        out.append(f"{side} {lid}: {act} on {res}")
                    if act.startswith("ssm:") and not res.endswith(":parameter${SecretsPrefix}*"):
                        out.append(f"{side} {lid}: {act} on {res}")
            if self.verbose:
                self.notes.append(f"{lid}: {', '.join(sorted(acts_a))}")
        return out

    def parameters(self) -> list[str]:
        keys = ["Type", "Default", "AllowedPattern", "AllowedValues", "MinValue", "MaxValue", "MinLength", "MaxLength", "NoEcho"]

        def view(v: View) -> dict:
            ps = v.tpl.get("Parameters", {})
            return {
                n: {k: canon(p.get(k)) for k in keys}
                for n, p in ps.items()
                if n != "BootstrapVersion"  # CDK's bootstrap check, not a stack parameter
            }

        a, b = view(self.sam), view(self.cdk)
        out = self.diff("parameters", set(a), set(b))
        for n in sorted(set(a) & set(b)):
            out += self.diff(f"parameter {n}", a[n], b[n])
        need = {
            "Stage", "SecretsPrefix", "JwtIssuer", "JwtAudience", "ChatbotsClaim", "LlmBaseUrl", "LlmModel",
            "GraphApiVersion", "WindowMarginMinutes", "SenderMaxConcurrency", "LogRetentionDays", "AlarmTopicArn",
        }
        if need - set(a):
            out.append(f"parameters missing: {sorted(need - set(a))}")
        return out

    def conditions(self) -> list[str]:
        return self.diff("conditions", canon(self.sam.tpl.get("Conditions", {})), canon(self.cdk.tpl.get("Conditions", {})))

    def outputs(self) -> list[str]:
        a = {k: canon(v.get("Value")) for k, v in self.sam.tpl.get("Outputs", {}).items()}
        b = {k: canon(v.get("Value")) for k, v in self.cdk.tpl.get("Outputs", {}).items()}
        out = self.diff("outputs", a, b)
        if set(OUTPUTS) - set(a):
            out.append(f"outputs missing: {sorted(set(OUTPUTS) - set(a))}")
        if not str(a.get("WebhookUrl", "")).endswith("/v1/webhooks/meta"):
            out.append(f"WebhookUrl = {a.get('WebhookUrl')}")
        return out

    def run(self) -> int:
        self.check("resource kinds and counts", self.kinds)
        self.check("pinned logical IDs", self.pinned)
        self.check("DynamoDB table (keys, GSIs, TTL, PITR, SSE, retain)", self.table)
        self.check("SQS due queue + DLQ + scheduler DLQ (redrive, visibility, retention)", self.queues)
        self.check("scheduler schedule group", self.schedule_group)
        self.check("scheduler role (trust, sqs:SendMessage to the due queue and scheduler DLQ only)", self.scheduler_role)
        self.check("functions (arm64, provided.al2023, memory, timeouts, role, logs)", self.functions)
        self.check("function environment (same names and values, as docs/aws.md)", self.environment)
        self.check("HTTP API routes and JWT authorizer", self.http_api)
        self.check("HTTP API stage", self.stage)
        self.check("Lambda invoke permissions for the HTTP API", self.permissions)
        self.check("SQS event source (ReportBatchItemFailures, batch, concurrency)", self.event_source)
        self.check("DLQ alarms (due queue DLQ, scheduler DLQ)", self.alarm)
        self.check("log groups (name, retention)", self.log_groups)
        self.check("IAM per function role (actions, resources, conditions)", self.iam)
        self.check("parameters", self.parameters)
        self.check("conditions", self.conditions)
        self.check("outputs", self.outputs)
        print(f"compare: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


# --------------------------------------------------------------------------- self-test
def self_test(sam_tpl: dict, cdk_tpl: dict, aws_doc: str | None) -> int:
    """Mutate the CDK side in known ways; each mutation must make its check fail."""
    import contextlib
    import io

    def cdk_policy_with(tpl: dict, action: str) -> None:
        stmts = tpl["Resources"]["FunctionsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        stmts.append({"Effect": "Allow", "Action": action, "Resource": "*"})

    def drop_env(tpl: dict) -> None:
        tpl["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"].pop("FOLLOWUP_CHATBOTS_CLAIM")

    def open_route(tpl: dict) -> None:
        for r in tpl["Resources"].values():
            if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["RouteKey"].startswith("ANY"):
                r["Properties"]["AuthorizationType"] = "NONE"
                r["Properties"].pop("AuthorizerId", None)

    def no_partial_failures(tpl: dict) -> None:
        for r in tpl["Resources"].values():
            if r["Type"] == "AWS::Lambda::EventSourceMapping":
                r["Properties"].pop("FunctionResponseTypes", None)

    def x86(tpl: dict) -> None:
        tpl["Resources"]["SenderFunction"]["Properties"]["Architectures"] = ["x86_64"]

    def no_ttl(tpl: dict) -> None:
        tpl["Resources"]["Table"]["Properties"].pop("TimeToLiveSpecification")

    def scheduler_role_more(tpl: dict) -> None:
        doc = tpl["Resources"]["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        doc["Statement"].append({"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": {"Fn::GetAtt": ["DueQueue", "Arn"]}})

    def extra_queue(tpl: dict) -> None:
        tpl["Resources"]["ExtraQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}

    def scheduler_role_without_dlq(tpl: dict) -> None:
        doc = tpl["Resources"]["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        for st in doc["Statement"]:
            st["Resource"] = [r for r in as_list(st["Resource"]) if ref_id(r) != "SchedulerDlq"]

    def scheduler_dlq_alarm_on_due_dlq(tpl: dict) -> None:
        props = tpl["Resources"]["SchedulerDlqAlarm"]["Properties"]
        props["Dimensions"] = [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]

    def scheduler_dlq_short_retention(tpl: dict) -> None:
        tpl["Resources"]["SchedulerDlq"]["Properties"]["MessageRetentionPeriod"] = 345600

    def scheduler_dlq_env_is_due_queue(tpl: dict) -> None:
        for lid in FUNCTIONS.values():
            env = tpl["Resources"][lid]["Properties"]["Environment"]["Variables"]
            env["FOLLOWUP_SCHEDULER_DLQ_ARN"] = {"Fn::GetAtt": ["DueQueue", "Arn"]}

    def console_behind_jwt(tpl: dict) -> None:
        res = tpl["Resources"]
        authorizer = next(k for k, r in res.items() if r["Type"] == "AWS::ApiGatewayV2::Authorizer")
        for r in res.values():
            if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["RouteKey"] == "GET /console/{proxy+}":
                r["Properties"]["AuthorizationType"] = "JWT"
                r["Properties"]["AuthorizerId"] = {"Ref": authorizer}

    def console_any_method(tpl: dict) -> None:
        for r in tpl["Resources"].values():
            if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["RouteKey"] == "GET /console/{proxy+}":
                r["Properties"]["RouteKey"] = "ANY /console/{proxy+}"

    def catch_all_route(tpl: dict) -> None:
        res = tpl["Resources"]
        console = next(
            r for r in res.values()
            if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["RouteKey"] == "GET /console"
        )
        catch_all = copy.deepcopy(console)
        catch_all["Properties"]["RouteKey"] = "$default"
        res["CatchAllRoute"] = catch_all

    def api_wide_permission(tpl: dict) -> None:
        for r in tpl["Resources"].values():
            if r["Type"] != "AWS::Lambda::Permission":
                continue
            parts = r["Properties"]["SourceArn"]["Fn::Join"][1]
            if parts[-1] == "/*/*/console/{proxy+}":
                parts[-1] = "/*/*/*"

    mutations = [
        ("Scan granted", lambda t: cdk_policy_with(t, "dynamodb:Scan"), "IAM per function role"),
        ("env var dropped", drop_env, "function environment"),
        ("config route without JWT", open_route, "HTTP API routes"),
        ("no ReportBatchItemFailures", no_partial_failures, "SQS event source"),
        ("x86 sender", x86, "functions ("),
        ("table without TTL", no_ttl, "DynamoDB table"),
        ("scheduler role may receive", scheduler_role_more, "scheduler role"),
        ("extra queue", extra_queue, "resource kinds"),
        ("scheduler role cannot dead-letter", scheduler_role_without_dlq, "scheduler role"),
        ("scheduler DLQ alarm on the other queue", scheduler_dlq_alarm_on_due_dlq, "DLQ alarms"),
        ("scheduler DLQ keeps 4 days", scheduler_dlq_short_retention, "SQS due queue"),
        ("scheduler DLQ env var names the due queue", scheduler_dlq_env_is_due_queue, "function environment"),
        ("console route behind the JWT authorizer", console_behind_jwt, "HTTP API routes"),
        ("console route for every method", console_any_method, "HTTP API routes"),
        ("catch-all $default route without the JWT authorizer", catch_all_route, "HTTP API routes"),
        ("console invoke permission for the whole API", api_wide_permission, "Lambda invoke permissions"),
    ]
    ok = 0
    bad = 0
    for name, mutate, expect in mutations:
        mutated = copy.deepcopy(cdk_tpl)
        mutate(mutated)
        c = Checker(View("SAM", sam_tpl), View("CDK", mutated), aws_doc, False)
        with contextlib.redirect_stdout(io.StringIO()):
            c.run()
        if any(f.startswith(expect) for f in c.failures):
            ok += 1
            print(f"ok   self-test: {name} is caught ({expect}...)")
        else:
            bad += 1
            print(f"FAIL self-test: {name} is not caught by '{expect}' (failed: {c.failures})")
    print(f"self-test: {ok} passed, {bad} failed")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("-")]
    aws_doc = None
    if "--aws-doc" in argv:
        aws_doc = argv[argv.index("--aws-doc") + 1]
        args.remove(aws_doc)
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        sam = json.load(f)
    with open(args[1], encoding="utf-8") as f:
        cdk = json.load(f)
    if "--self-test" in argv:
        return self_test(sam, cdk, aws_doc)
    return Checker(View("SAM", sam), View("CDK", cdk), aws_doc, "-v" in argv).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
