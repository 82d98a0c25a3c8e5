#!/usr/bin/env node
// CDK app entry: one stack, environment-agnostic (no account or region lookups), so
// `cdk synth` works offline. Deploy-time values are CloudFormation parameters, exactly as
// in ../template.yaml: pass them with `cdk deploy --parameters Name=value`.
//
// Stack name: `-c stackName=followup-prod` (default `followup`). It also names the
// EventBridge Scheduler group and the log groups, so use one per deployment.

import { App } from 'aws-cdk-lib';
import { FollowupStack } from '../lib/followup-stack';

const app = new App();
const stackName: string = app.node.tryGetContext('stackName') ?? 'followup';

new FollowupStack(app, 'FollowupStack', {
  stackName,
  description:
    'Follow-ups for WhatsApp, Messenger and Instagram chatbots: webhook, api and sender ' +
    'functions (Rust, arm64), HTTP API with a JWT authorizer on the config routes, DynamoDB ' +
    'table, EventBridge Scheduler group and role, SQS due queue with DLQ and an alarm.',
  analyticsReporting: false,
});
