// The follow-up service's AWS stack: the same resources, parameters, permissions and
// outputs as ../template.yaml (SAM). tests/infra_check.sh synthesizes this app and compares
// the two templates, so a change here needs the same change there (and the other way).
//
// Logical IDs of the core resources are pinned to the SAM template's names, so both
// templates read alike and the comparison can match resource references one to one.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Aws,
  CfnCondition,
  CfnOutput,
  CfnParameter,
  CfnResource,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  StackProps,
  Tags,
  Token,
  Validations,
  aws_apigatewayv2 as apigw,
  aws_apigatewayv2_authorizers as authorizers,
  aws_apigatewayv2_integrations as integrations,
  aws_cloudwatch as cloudwatch,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_logs as logs,
  aws_scheduler as scheduler,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/** The three Lambda binaries of the Cargo workspace (`cargo lambda build` output names). */
export const BINARIES = {
  webhook: 'followup-webhook-fn',
  api: 'followup-api-fn',
  sender: 'followup-sender-fn',
} as const;

export interface FollowupStackProps extends StackProps {
  /**
   * Folder holding `<binary>/bootstrap` for each function: the output of
   * `cargo lambda build --release --arm64` (`<workspace>/target/lambda`).
   * Default: `$FOLLOWUP_LAMBDA_DIR`, else `../target/lambda` beside this app.
   */
  readonly lambdaDir?: string;
}

// The sender's time limits, derived from one due item's worst case with the functions'
// fixed judge and Graph settings (the Rust side checks the same sums at cold start and
// refuses an inconsistent set: shared/lambda/src/wiring.rs, docs/aws.md "Time limits").
const JUDGE_TIMEOUT_SECONDS = 20; // per attempt, OpenAI-compatible and Bedrock alike
const JUDGE_ATTEMPTS = 3;
const GRAPH_TIMEOUT_SECONDS = 10;
const GRAPH_ATTEMPTS = 3;
const MAX_BACKOFF_SECONDS = 10; // between two attempts, judge and Graph alike
const STORE_CALLS_SECONDS = 15;
const ITEM_WORST_CASE_SECONDS =
  JUDGE_TIMEOUT_SECONDS * JUDGE_ATTEMPTS + MAX_BACKOFF_SECONDS * (JUDGE_ATTEMPTS - 1) +
  GRAPH_TIMEOUT_SECONDS * GRAPH_ATTEMPTS + MAX_BACKOFF_SECONDS * (GRAPH_ATTEMPTS - 1) +
  STORE_CALLS_SECONDS;
/** The worst case plus headroom, rounded up to a whole minute. */
const SENDER_TIMEOUT_SECONDS = Math.ceil((ITEM_WORST_CASE_SECONDS + 30) / 60) * 60;
/** A claim outlives the invocation that took it, so only a stopped sender's runs out. */
const CLAIM_LEASE_SECONDS = SENDER_TIMEOUT_SECONDS + 30;
/** 6 x the sender's timeout (AWS guidance); longer than the lease by construction. */
const DUE_VISIBILITY_TIMEOUT_SECONDS = 6 * SENDER_TIMEOUT_SECONDS;

/** Pin a construct's CloudFormation logical ID (its default child's). */
function pinId(c: IConstruct, logicalId: string): void {
  const child = c instanceof CfnResource ? c : (c.node.defaultChild as CfnResource);
  child.overrideLogicalId(logicalId);
}

export class FollowupStack extends Stack {
  constructor(scope: Construct, id: string, props: FollowupStackProps = {}) {
    super(scope, id, props);

    // ------------------------------------------------------------ parameters
    const stage = new CfnParameter(this, 'Stage', {
      type: 'String',
      default: 'prod',
      allowedPattern: '^[a-z0-9][a-z0-9-]{0,19}$',
      description: 'Deployment stage (prod, staging, ...); tagged on the resources.',
    });
    const secretsPrefix = new CfnParameter(this, 'SecretsPrefix', {
      type: 'String',
      default: '/followup/prod/',
      allowedPattern: '^/([A-Za-z0-9_.-]+/)+$',
      description:
        'SSM Parameter Store path holding the SecureString parameters meta-app-secret, ' +
        'meta-verify-token and llm-api-key (optional). Starts and ends with a slash.',
    });
    const jwtIssuer = new CfnParameter(this, 'JwtIssuer', {
      type: 'String',
      allowedPattern: '^https://.+',
      description: 'Issuer URL of the JWTs accepted on /v1/chatbots/* (e.g. a Cognito user pool URL).',
    });
    const jwtAudience = new CfnParameter(this, 'JwtAudience', {
      type: 'CommaDelimitedList',
      description: 'Accepted JWT audiences (client ids), comma-separated.',
    });
    const chatbotsClaim = new CfnParameter(this, 'ChatbotsClaim', {
      type: 'String',
      default: 'followup_chatbots',
      minLength: 1,
      description: 'JWT claim listing the chatbots a caller may manage ("*" for all).',
    });
    const llmBaseUrl = new CfnParameter(this, 'LlmBaseUrl', {
      type: 'String',
      default: '',
      allowedPattern: '^(https?://.+)?$',
      description: 'OpenAI-compatible API root for the judge. Empty = the offline judge.',
    });
    const llmModel = new CfnParameter(this, 'LlmModel', {
      type: 'String',
      default: 'gpt-4.1-mini',
      minLength: 1,
      description: 'Model name for the LLM judge (used only when LlmBaseUrl is set).',
    });
    const llmOutputMode = new CfnParameter(this, 'LlmOutputMode', {
      type: 'String',
      default: 'json_schema',
      allowedValues: ['json_schema', 'json_object', 'tools'],
      description: 'How the OpenAI-compatible server is asked for structured output.',
    });
    const bedrockModelId = new CfnParameter(this, 'BedrockModelId', {
      type: 'String',
      default: '',
      allowedPattern: '^([a-zA-Z0-9._:-]+)?$',
      description:
        'Amazon Bedrock model or inference-profile id for the judge (IAM only). Empty = no Bedrock judge.',
    });
    const graphApiVersion = new CfnParameter(this, 'GraphApiVersion', {
      type: 'String',
      default: 'v25.0',
      allowedPattern: '^v[0-9]+\\.[0-9]+$',
      description: 'Meta Graph API version.',
    });
    const windowMarginMinutes = new CfnParameter(this, 'WindowMarginMinutes', {
      type: 'Number',
      default: 15,
      minValue: 1,
      maxValue: 180,
      description: 'Minutes taken off the 24-hour window.',
    });
    const aiFirstCheckMinutes = new CfnParameter(this, 'AiFirstCheckMinutes', {
      type: 'Number',
      default: 120,
      minValue: 1,
      maxValue: 43200,
      description: "For ai delays, when the judge first looks after the customer's last message.",
    });
    const senderMaxConcurrency = new CfnParameter(this, 'SenderMaxConcurrency', {
      type: 'Number',
      default: 5,
      minValue: 2,
      maxValue: 1000,
      description: 'Most concurrent sender invocations fed by SQS (caps Meta and LLM request rates).',
    });
    const logRetentionDays = new CfnParameter(this, 'LogRetentionDays', {
      type: 'Number',
      default: '30', // a string, like the allowed values (cfn-lint E2015 compares them as is)
      allowedValues: [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
        3288, 3653,
      ].map(String),
      description: "Retention of the functions' log groups, in days.",
    });
    const alarmTopicArn = new CfnParameter(this, 'AlarmTopicArn', {
      type: 'String',
      default: '',
      allowedPattern: '^(arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+)?$',
      description: 'Optional SNS topic notified when a DLQ holds messages. Empty = no notification.',
    });

    const hasLlmBaseUrl = new CfnCondition(this, 'HasLlmBaseUrl', {
      expression: Fn.conditionNot(Fn.conditionEquals(llmBaseUrl.valueAsString, '')),
    });
    const hasBedrockModel = new CfnCondition(this, 'HasBedrockModel', {
      expression: Fn.conditionNot(Fn.conditionEquals(bedrockModelId.valueAsString, '')),
    });
    const hasAlarmTopic = new CfnCondition(this, 'HasAlarmTopic', {
      expression: Fn.conditionNot(Fn.conditionEquals(alarmTopicArn.valueAsString, '')),
    });

    Tags.of(this).add('followup:stage', stage.valueAsString);

    // CDK's synth-time template check (CloudFormation Validate) flags the parameter name
    // as a password: it is an SSM path, the secrets themselves never enter the template.
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W2509',
      reason: 'SecretsPrefix is an SSM path prefix, not a secret',
    });

    // --------------------------------------------------------------- storage
    const table = new dynamodb.Table(this, 'Table', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const n of [1, 2]) {
      table.addGlobalSecondaryIndex({
        indexName: `gsi${n}`,
        partitionKey: { name: `gsi${n}pk`, type: dynamodb.AttributeType.STRING },
        sortKey: { name: `gsi${n}sk`, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    pinId(table, 'Table');

    // ------------------------------------------------------------ scheduling
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    pinId(deadLetterQueue, 'DeadLetterQueue');

    const dueQueue = new sqs.Queue(this, 'DueQueue', {
      // 6 x the sender's timeout, as Lambda recommends for SQS event sources.
      visibilityTimeout: Duration.seconds(DUE_VISIBILITY_TIMEOUT_SECONDS),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    pinId(dueQueue, 'DueQueue');

    // The schedules' dead-letter queue: a fire EventBridge Scheduler could not deliver to
    // the due queue (after retrying for up to 24 h / 185 attempts) lands here instead of
    // being dropped. Every schedule names it (FOLLOWUP_SCHEDULER_DLQ_ARN); nothing consumes it.
    const schedulerDlq = new sqs.Queue(this, 'SchedulerDlq', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    pinId(schedulerDlq, 'SchedulerDlq');

    const scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', {
      name: Aws.STACK_NAME,
    });
    pinId(scheduleGroup, 'ScheduleGroup');

    // The role EventBridge Scheduler assumes to deliver a due item: SendMessage to the
    // due queue and, for a fire it cannot deliver, to the schedules' DLQ; nothing else.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      inlinePolicies: {
        'send-due-items': new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['sqs:SendMessage'],
              resources: [dueQueue.queueArn, schedulerDlq.queueArn],
            }),
          ],
        }),
      },
    });
    pinId(schedulerRole, 'SchedulerRole');

    // ------------------------------------------------------------- functions
    const lambdaDir =
      props.lambdaDir ??
      process.env.FOLLOWUP_LAMBDA_DIR ??
      path.join(__dirname, '..', '..', 'target', 'lambda');

    const secretParameters = `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${secretsPrefix.valueAsString}*`;

    // What all three functions need, as one customer managed policy (as in the SAM
    // template). Hand-written rather than table.grantReadWriteData() and friends, which
    // would add Scan, DescribeTable and more.
    const functionsPolicy = new iam.ManagedPolicy(this, 'FunctionsPolicy', {
      description: "Follow-up functions - table, schedules in this stack's group, due queue, secrets",
      statements: [
        new iam.PolicyStatement({
          sid: 'TableItems',
          actions: [
            'dynamodb:GetItem',
            'dynamodb:BatchGetItem',
            'dynamodb:BatchWriteItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:ConditionCheckItem',
          ],
          resources: [table.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'TableQuery',
          actions: ['dynamodb:Query'],
          resources: [table.tableArn, `${table.tableArn}/index/*`],
        }),
        new iam.PolicyStatement({
          sid: 'Schedules',
          actions: [
            'scheduler:CreateSchedule',
            'scheduler:UpdateSchedule',
            'scheduler:DeleteSchedule',
            'scheduler:GetSchedule',
          ],
          resources: [
            `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/${scheduleGroup.ref}/*`,
          ],
        }),
        new iam.PolicyStatement({
          sid: 'PassSchedulerRole',
          actions: ['iam:PassRole'],
          resources: [schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
        new iam.PolicyStatement({
          sid: 'SendDueItems',
          actions: ['sqs:SendMessage'],
          resources: [dueQueue.queueArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadSecrets',
          actions: ['ssm:GetParameters'], // one call at init (docs/aws.md, Secrets)
          resources: [secretParameters],
        }),
        // Not needed with the default aws/ssm key (its key policy already allows use
        // through SSM within the account); needed if the parameters use a customer key.
        new iam.PolicyStatement({
          sid: 'DecryptSecrets',
          actions: ['kms:Decrypt'],
          resources: [`arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`],
          conditions: {
            StringEquals: { 'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com` },
            StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': secretParameters },
          },
        }),
      ],
    });
    pinId(functionsPolicy, 'FunctionsPolicy');

    const commonEnvironment: Record<string, string> = {
      FOLLOWUP_TABLE: table.tableName,
      FOLLOWUP_SECRETS_PREFIX: secretsPrefix.valueAsString,
      FOLLOWUP_WINDOW_MARGIN_MINUTES: windowMarginMinutes.valueAsString,
      FOLLOWUP_AI_FIRST_CHECK_MINUTES: aiFirstCheckMinutes.valueAsString,
      FOLLOWUP_SCHEDULE_GROUP: scheduleGroup.ref,
      FOLLOWUP_DUE_QUEUE_ARN: dueQueue.queueArn,
      FOLLOWUP_DUE_QUEUE_URL: dueQueue.queueUrl,
      FOLLOWUP_SCHEDULER_ROLE_ARN: schedulerRole.roleArn,
      FOLLOWUP_SCHEDULER_DLQ_ARN: schedulerDlq.queueArn,
    };

    const makeFunction = (
      name: 'Webhook' | 'Api' | 'Sender',
      binary: string,
      opts: { description: string; timeoutSeconds: number; environment?: Record<string, string> },
    ): lambda.Function => {
      const logGroup = new logs.LogGroup(this, `${name}LogGroup`, {
        logGroupName: `/followup/${Aws.STACK_NAME}/${name.toLowerCase()}`,
        retention: logRetentionDays.valueAsNumber as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      pinId(logGroup, `${name}LogGroup`);

      const role = new iam.Role(this, `${name}FunctionRole`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        inlinePolicies: {
          logs: new iam.PolicyDocument({
            statements: [
              new iam.PolicyStatement({
                actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                resources: [logGroup.logGroupArn],
              }),
            ],
          }),
        },
      });
      pinId(role, `${name}FunctionRole`);
      functionsPolicy.attachToRole(role);

      const fn = new lambda.Function(this, `${name}Function`, {
        description: opts.description,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.ARM_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(binaryDir(lambdaDir, binary)),
        memorySize: 256,
        timeout: Duration.seconds(opts.timeoutSeconds),
        role,
        logGroup,
        environment: { ...commonEnvironment, ...(opts.environment ?? {}) },
      });
      pinId(fn, `${name}Function`);
      fn.node.addDependency(functionsPolicy);
      return fn;
    };

    // Meta webhooks: GET subscribe handshake, POST signed deliveries (no JWT: the
    // signature on the raw body is the authentication).
    const webhookFn = makeFunction('Webhook', BINARIES.webhook, {
      description: 'Meta webhooks (WhatsApp, Messenger, Instagram)',
      timeoutSeconds: 10,
    });

    // The configuration API. 29 s: a template catalogue refresh pages through Meta's list
    // (API Gateway answers 503 after 30 s anyway).
    // The judge's settings: the sender judges due items, the API dry runs.
    const judgeEnvironment = {
      // Unset (not empty) without a base URL: the functions then use the offline judge.
      FOLLOWUP_LLM_BASE_URL: Token.asString(
        Fn.conditionIf(hasLlmBaseUrl.logicalId, llmBaseUrl.valueAsString, Aws.NO_VALUE),
      ),
      FOLLOWUP_LLM_MODEL: llmModel.valueAsString,
      FOLLOWUP_LLM_OUTPUT_MODE: llmOutputMode.valueAsString,
      FOLLOWUP_BEDROCK_MODEL_ID: Token.asString(
        Fn.conditionIf(hasBedrockModel.logicalId, bedrockModelId.valueAsString, Aws.NO_VALUE),
      ),
    };
    const apiFn = makeFunction('Api', BINARIES.api, {
      description: 'Follow-up configuration API',
      timeoutSeconds: 29,
      // The same judge as the sender, for dry runs (each bounded well inside the 29 s).
      environment: {
        FOLLOWUP_CHATBOTS_CLAIM: chatbotsClaim.valueAsString,
        ...judgeEnvironment,
      },
    });

    // Due follow-ups from SQS, a batch at a time, with partial batch failures.
    const senderFn = makeFunction('Sender', BINARIES.sender, {
      description: 'Due follow-ups - re-check, judge, send',
      timeoutSeconds: SENDER_TIMEOUT_SECONDS,
      environment: {
        ...judgeEnvironment,
        FOLLOWUP_GRAPH_API_VERSION: graphApiVersion.valueAsString,
        FOLLOWUP_SENDER_TIMEOUT_SECONDS: String(SENDER_TIMEOUT_SECONDS),
        FOLLOWUP_CLAIM_LEASE_SECONDS: String(CLAIM_LEASE_SECONDS),
        FOLLOWUP_DUE_VISIBILITY_TIMEOUT_SECONDS: String(DUE_VISIBILITY_TIMEOUT_SECONDS),
      },
    });
    // With a Bedrock judge: the sender (and the API, for dry runs) may invoke exactly that
    // model, or that inference profile and the foundation models it routes to (only
    // through the profile).
    const profileArn =
      'arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/${BedrockModelId}';
    const judgeModelPolicy = new iam.CfnPolicy(this, 'JudgeModelPolicy', {
      policyName: 'invoke-judge-model',
      roles: [senderFn.role!.roleName, apiFn.role!.roleName],
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'bedrock:InvokeModel',
            Resource: [
              Fn.sub('arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${BedrockModelId}'),
              Fn.sub(profileArn),
            ],
          },
          {
            Effect: 'Allow',
            Action: 'bedrock:InvokeModel',
            Resource: Fn.sub('arn:${AWS::Partition}:bedrock:*::foundation-model/*'),
            Condition: { StringEquals: { 'bedrock:InferenceProfileArn': Fn.sub(profileArn) } },
          },
        ],
      },
    });
    judgeModelPolicy.cfnOptions.condition = hasBedrockModel;
    judgeModelPolicy.overrideLogicalId('JudgeModelPolicy');
    // Grants the consume actions on the due queue to the sender's role.
    senderFn.addEventSource(
      new sources.SqsEventSource(dueQueue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: senderMaxConcurrency.valueAsNumber,
      }),
    );

    // -------------------------------------------------------------- HTTP API
    const jwtAuthorizer = new authorizers.HttpJwtAuthorizer('JwtAuthorizer', jwtIssuer.valueAsString, {
      authorizerName: 'JwtAuthorizer',
      jwtAudience: jwtAudience.valueAsList,
      identitySource: ['$request.header.Authorization'],
    });
    const httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Follow-ups - Meta webhooks and the configuration API',
      defaultAuthorizer: jwtAuthorizer,
      createDefaultStage: true,
    });
    pinId(httpApi, 'HttpApi');

    const noAuth = new apigw.HttpNoneAuthorizer();
    const webhookIntegration = new integrations.HttpLambdaIntegration('WebhookIntegration', webhookFn);
    const apiIntegration = new integrations.HttpLambdaIntegration('ApiIntegration', apiFn);
    httpApi.addRoutes({
      path: '/v1/webhooks/meta',
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.POST],
      integration: webhookIntegration,
      authorizer: noAuth,
    });
    httpApi.addRoutes({
      path: '/v1/chatbots/{proxy+}',
      methods: [apigw.HttpMethod.ANY],
      integration: apiIntegration, // the default authorizer: JWT
    });
    for (const p of ['/v1/health', '/v1/openapi.json']) {
      httpApi.addRoutes({
        path: p,
        methods: [apigw.HttpMethod.GET],
        integration: apiIntegration,
        authorizer: noAuth,
      });
    }
    // The operators' web console: static files (HTML, CSS, JavaScript, icon) embedded in
    // the binary, GET only, no JWT. The page asks the operator for a token and sends it to
    // /v1/chatbots/..., where the authorizer checks it. The two routes cover /console (the
    // router redirects it to console/), /console/ (the page) and its files; no catch-all,
    // so nothing else bypasses the authorizer.
    for (const p of ['/console', '/console/{proxy+}']) {
      httpApi.addRoutes({
        path: p,
        methods: [apigw.HttpMethod.GET],
        integration: apiIntegration,
        authorizer: noAuth,
      });
    }

    // ------------------------------------------------------------ monitoring
    // One alarm per dead-letter queue: depth >= 1 within a minute, to AlarmTopicArn when set.
    const depthAlarm = (logicalId: string, queue: sqs.Queue, description: string): void => {
      const alarm = new cloudwatch.Alarm(this, logicalId, {
        alarmDescription: description,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.seconds(60),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const cfnAlarm = alarm.node.defaultChild as cloudwatch.CfnAlarm;
      cfnAlarm.overrideLogicalId(logicalId);
      cfnAlarm.alarmActions = Token.asList(
        Fn.conditionIf(hasAlarmTopic.logicalId, [alarmTopicArn.valueAsString], Aws.NO_VALUE),
      );
      // The check evaluates the parameter's empty default inside the list; the HasAlarmTopic
      // condition drops the list in exactly that case.
      Validations.of(alarm).acknowledge({
        id: 'CloudFormation-Validate::W1030',
        reason: 'AlarmActions is only set when AlarmTopicArn is not empty (HasAlarmTopic)',
      });
    };
    depthAlarm(
      'DlqAlarm',
      deadLetterQueue,
      `Follow-up due items in the dead-letter queue (${Aws.STACK_NAME}): they were delivered 5 times and failed`,
    );
    depthAlarm(
      'SchedulerDlqAlarm',
      schedulerDlq,
      `Follow-up schedule fires in the scheduler dead-letter queue (${Aws.STACK_NAME}): EventBridge Scheduler could not deliver them to the due queue`,
    );

    // --------------------------------------------------------------- outputs
    new CfnOutput(this, 'WebhookUrl', {
      description: "Callback URL for the Meta app's webhook settings",
      value: `${httpApi.apiEndpoint}/v1/webhooks/meta`,
    });
    new CfnOutput(this, 'ApiUrl', {
      description: 'Root of the HTTP API (configuration routes under /v1/chatbots/)',
      value: `${httpApi.apiEndpoint}/`,
    });
    new CfnOutput(this, 'TableName', { description: 'DynamoDB table', value: table.tableName });
    new CfnOutput(this, 'DueQueueUrl', {
      description: 'SQS queue of due follow-ups',
      value: dueQueue.queueUrl,
    });
    new CfnOutput(this, 'DlqUrl', {
      description: 'Dead-letter queue of the due queue (alarmed)',
      value: deadLetterQueue.queueUrl,
    });
  }
}

/**
 * The folder of one function's `bootstrap`. Fails with a clear message when it was not
 * built: a stack with a missing or placeholder binary must not be deployable by accident.
 * (tests/infra_check.sh points FOLLOWUP_LAMBDA_DIR at placeholder binaries to synthesize
 * offline without a Rust build.)
 */
function binaryDir(lambdaDir: string, binary: string): string {
  const dir = path.resolve(lambdaDir, binary);
  if (!fs.existsSync(path.join(dir, 'bootstrap'))) {
    throw new Error(
      `No Lambda binary at ${path.join(dir, 'bootstrap')}. Build the functions first ` +
        '(from the workspace root: cargo lambda build --release --arm64 -p followup-webhook-fn ' +
        '-p followup-api-fn -p followup-sender-fn), or set ' +
        'FOLLOWUP_LAMBDA_DIR to the folder holding <binary>/bootstrap.',
    );
  }
  return dir;
}
