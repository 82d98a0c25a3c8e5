#!/usr/bin/env python3
"""Translate template.yaml (SAM) into plain CloudFormation, offline.

Usage: infra_sam_translate.py TEMPLATE.yaml OUT.json

Runs the SAM transform locally with aws-sam-translator (PyPI; the library that the
CloudFormation service and `sam validate` use), so the comparison with the CDK app and a
cfn-lint pass over the generated resources need no AWS account and no network:
- local CodeUri paths become a placeholder S3 URI first (what `sam package` would do);
- managed policies are never looked up by name in IAM (the template names none);
- the region for ARN partitions is fixed to us-east-1.

Needs the venv that tests/infra_check.sh builds (aws-sam-translator, PyYAML).
"""

import json
import sys

from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

PLACEHOLDER_CODE = "s3://offline-placeholder-bucket/code.zip"


class NoManagedPolicies:
    """Stands in for IAM's ListPolicies: the template references no managed policy by name."""

    def load(self):
        return {}


def main() -> int:
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        template = yaml_parse(f.read())

    fn_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(fn_globals.get("CodeUri"), str) and not fn_globals["CodeUri"].startswith("s3://"):
        fn_globals["CodeUri"] = PLACEHOLDER_CODE
    for res in template.get("Resources", {}).values():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            if not props["CodeUri"].startswith("s3://"):
                props["CodeUri"] = PLACEHOLDER_CODE

    ArnGenerator.BOTO_SESSION_REGION_NAME = "us-east-1"
    try:
        translated = transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"SAM transform: {cause.message}", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as f:
        json.dump(translated, f, indent=1, sort_keys=True)
    print(f"translated {src} -> {out} ({len(translated.get('Resources', {}))} resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
