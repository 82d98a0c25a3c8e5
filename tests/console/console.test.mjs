// Drives the operators' web console in headless Chromium against a running local engine.
// Started by run.sh, which passes the engine's address, token and app secret, and the local
// template file of its data directory (the engine's stand-in for Meta's template list):
//   CONSOLE_BASE_URL, CONSOLE_TOKEN, CONSOLE_CHATBOT, CONSOLE_APP_SECRET, SCREENSHOT_DIR,
//   CONSOLE_TEMPLATES_FILE
// The tests build on each other (one chatbot, one browser) and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.CONSOLE_BASE_URL || 'http://127.0.0.1:8080';
const TOKEN = process.env.CONSOLE_TOKEN;
const CHATBOT = process.env.CONSOLE_CHATBOT || 'clinic';
const APP_SECRET = process.env.CONSOLE_APP_SECRET;
const SHOTS = process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), 'console-screenshots');
const TEMPLATES_FILE = process.env.CONSOLE_TEMPLATES_FILE;
const ACCOUNT = '106540352242922';
/** The WhatsApp Business Account whose templates the chatbot uses. */
const WABA = '102290129340398';
const STEP = { timeout: 120_000 };

assert.ok(TOKEN, 'CONSOLE_TOKEN is set');
assert.ok(APP_SECRET, 'CONSOLE_APP_SECRET is set');
assert.ok(TEMPLATES_FILE, 'CONSOLE_TEMPLATES_FILE is set');

/** Meta's template list for WABA, as the local engine reads it from its templates file. */
const bodyComponent = (text) => [{ type: 'BODY', text }];
const SEEDED_TEMPLATES = [
  { id: '1760000000000001', name: 'appointment_reminder', language: 'en_US', category: 'UTILITY', status: 'APPROVED',
    parameter_format: 'POSITIONAL', components: bodyComponent('Hi {{1}}, shall we book your appointment? Reply with a time that suits you.') },
  { id: '1760000000000002', name: 'purchase_confirmation', language: 'en_US', category: 'UTILITY', status: 'APPROVED',
    parameter_format: 'POSITIONAL', components: bodyComponent('Thank you for your purchase! Is everything as you expected?') },
  { id: '1760000000000003', name: 'visit_survey', language: 'en_US', category: 'MARKETING', status: 'APPROVED',
    parameter_format: 'POSITIONAL', components: bodyComponent('Hello {{1}}, how was your visit on {{2}}? Tell us in one tap.') },
  { id: '1760000000000004', name: 'spring_offer', language: 'en_US', category: 'MARKETING', status: 'PAUSED',
    parameter_format: 'POSITIONAL', components: bodyComponent('Spring offer: 20% off every treatment this week, {{1}}!') },
  { id: '1760000000000005', name: 'treatment_follow_up', language: 'de', category: 'UTILITY', status: 'PENDING',
    parameter_format: 'POSITIONAL', components: bodyComponent('Hallo {{1}}, wie geht es Ihnen nach der Behandlung?') },
  { id: '1760000000000006', name: 'order_photo', language: 'en_US', category: 'UTILITY', status: 'APPROVED',
    parameter_format: 'POSITIONAL', components: [{ type: 'HEADER', format: 'IMAGE' }, ...bodyComponent('Your order {{1}} is on its way.')] },
];

let context;
let page;
let profile;
const pageErrors = [];

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  // The engine reads the file on every refresh: no account is connected yet, so nothing is
  // listed until a test connects WABA and refreshes.
  fs.mkdirSync(path.dirname(TEMPLATES_FILE), { recursive: true });
  fs.writeFileSync(TEMPLATES_FILE, `${JSON.stringify({ accounts: { [WABA]: SEEDED_TEMPLATES } }, null, 2)}\n`);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // Chromium reports every non-2xx answer as "Failed to load resource"; the tests
    // provoke 401, 409 and 422 on purpose. Anything else is a bug in the console.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      pageErrors.push(message.text());
    }
  });
});

after(async () => {
  await context?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

// ---- helpers -----------------------------------------------------------------------------------

async function apiCall(method, urlPath, body) {
  const response = await fetch(BASE + urlPath, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Sets a template's status in the local templates file (as Meta would, e.g. pausing it). */
function setTemplateStatus(name, language, status) {
  const file = JSON.parse(fs.readFileSync(TEMPLATES_FILE, 'utf8'));
  const item = file.accounts[WABA].find((t) => t.name === name && t.language === language);
  assert.ok(item, `template ${name} (${language}) is in the file`);
  item.status = status;
  fs.writeFileSync(TEMPLATES_FILE, `${JSON.stringify(file, null, 2)}\n`);
}

/** Lists the templates from the (local) directory again, through the API. */
async function refreshCatalogue() {
  const { status, body: answer } = await apiCall('POST', `/v1/chatbots/${CHATBOT}/whatsapp-templates/refresh`);
  assert.equal(status, 200, `refresh: ${JSON.stringify(answer)}`);
  return answer;
}

async function catalogue() {
  const { status, body: answer } = await apiCall('GET', `/v1/chatbots/${CHATBOT}/whatsapp-templates`);
  assert.equal(status, 200);
  return answer.items;
}

/** The picker's option of a template (its radio button). */
const option = (name, language = 'en_US') => `#tpl-${name}-${language}`;
const optionText = async (name, language = 'en_US') =>
  (await page.textContent(`#template-options li[data-name="${name}"][data-language="${language}"]`)).replace(/\u00a0/g, ' ');

async function followUps() {
  const { status, body } = await apiCall('GET', `/v1/chatbots/${CHATBOT}/follow-ups`);
  assert.equal(status, 200);
  return body;
}

async function byName(name) {
  const found = (await followUps()).items.find((f) => f.name === name);
  assert.ok(found, `follow-up "${name}" exists`);
  return found;
}

/** The text of `selector`, with no-break spaces (as in "4 h") read as spaces. */
async function textOf(selector) {
  return (await page.textContent(selector)).replace(/\u00a0/g, ' ');
}

/** Waits until the view of the current route has rendered (after `after` renders). */
async function ready(after = 0) {
  await page.waitForFunction((n) => {
    const view = document.querySelector('.view');
    return view && view.dataset.ready === 'true' && Number(view.dataset.render) > n
      && view.dataset.route === (location.hash || '#/');
  }, after);
}

const renderCount = () => page.evaluate(() => Number(document.querySelector('.view')?.dataset.render || 0));

/** Does something that re-renders the current route, and waits for the new view. */
async function rerendered(action) {
  const before = await renderCount();
  await action();
  await ready(before);
}

async function goto(hash) {
  const before = await renderCount();
  await page.evaluate((h) => {
    if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = h;
  }, hash);
  await ready(before);
}

async function next(stepKey) {
  await page.click('#form-next');
  await page.waitForSelector(`section[data-step="${stepKey}"]:not([hidden])`);
}

/** Fills the step-by-step form from its first step to the review step. */
async function fillForm(spec) {
  await page.getByLabel('Display name').fill(spec.name);
  await page.check(`#f-color-${spec.color || 'none'}`);
  await next('delay');
  if (spec.delay === 'ai') {
    await page.check('#f-delay-ai');
  } else {
    await page.check('#f-delay-manual');
    await page.getByLabel('Hours', { exact: true }).fill(String(spec.delay.hours ?? 0));
    await page.getByLabel('Minutes', { exact: true }).fill(String(spec.delay.minutes ?? 0));
  }
  await next('when');
  await page.getByLabel('Description: when it applies').fill(spec.description);
  await page.getByLabel('Stop trigger').fill(spec.stopTrigger);
  await next('message');
  if (spec.text) {
    await page.check('#f-message-custom');
    await page.getByLabel('Text of the message').fill(spec.text);
  } else {
    await page.check('#f-message-ai');
  }
  await next('template');
  if (spec.template) {
    await page.check('#f-use-template');
    await page.check(option(spec.template.name, spec.template.language));
    const parameters = spec.template.parameters || [];
    assert.equal(await page.locator('#template-parameters > li').count(), parameters.length,
      'one parameter row per placeholder of the picked template');
    for (const [i, param] of parameters.entries()) {
      await page.selectOption(`#f-param-${i}-type`, param.type);
      if (param.type === 'text') await page.fill(`#f-param-${i}-text`, param.text);
    }
  } else {
    await page.uncheck('#f-use-template');
  }
  await next('review');
}

async function save() {
  await page.click('#form-save');
}

async function savedAndShown(name) {
  await page.waitForURL(/#\/f\/fu_/);
  await ready();
  await page.waitForSelector('#status-badge');
  assert.equal(await textOf('#page-title'), name);
}

async function checklistStates() {
  return page.$$eval('#checklist li', (items) => items.map((li) => [
    li.querySelector('strong').textContent, li.dataset.state]));
}

function signed(body) {
  const raw = JSON.stringify(body);
  const signature = crypto.createHmac('sha256', APP_SECRET).update(raw).digest('hex');
  return fetch(`${BASE}/v1/webhooks/meta`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${signature}` },
    body: raw,
  });
}

/** A WhatsApp customer text message, `minutesAgo` by Meta's timestamp. */
async function customerWrites(customer, text, minutesAgo) {
  const timestamp = Math.floor(Date.now() / 1000) - minutesAgo * 60;
  const response = await signed({
    object: 'whatsapp_business_account',
    entry: [{ id: '0', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550000000', phone_number_id: ACCOUNT },
      contacts: [{ profile: { name: 'Test Customer' }, wa_id: customer }],
      messages: [{ from: customer, id: `wamid.${crypto.randomUUID().replaceAll('-', '')}`,
        timestamp: String(timestamp), type: 'text', text: { body: text } }],
    } }] }],
  });
  assert.equal(response.status, 200, 'the signed webhook is accepted');
}

/** Polls a conversation's log (through the API) until `done(entries)` holds. */
async function logUntil(conversationId, done, what) {
  const deadline = Date.now() + 60_000;
  let entries = [];
  while (Date.now() < deadline) {
    const { status, body } = await apiCall('GET',
      `/v1/chatbots/${CHATBOT}/conversations/${encodeURIComponent(conversationId)}/log?limit=100`);
    if (status === 200) {
      entries = body.entries;
      if (done(entries)) return entries;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`log of ${conversationId} never showed ${what}: ${JSON.stringify(entries.map((e) => [e.kind, e.reason]))}`);
}

async function noHorizontalScroll(label) {
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(widths[0] <= widths[1], `${label}: page is ${widths[0]} px wide in a ${widths[1]} px viewport`);
}

// ---- the examples from the product brief -------------------------------------------------------

const APPOINTMENT = {
  name: 'Appointment reminder - 4 hours',
  color: 'blue',
  delay: { hours: 4, minutes: 0 },
  description: 'The customer showed interest in booking an appointment but did not confirm date and time.',
  stopTrigger: 'The customer confirmed, cancelled, or is no longer interested.',
  text: 'Shall I book one of these for you? Tue 10:00, Wed 15:00 or Thu 9:30.',
  template: { name: 'appointment_reminder', language: 'en_US', parameters: [{ type: 'profile_name' }] },
};
const AFTER_SALES = {
  name: 'After-sales check - 24 hours',
  color: 'green',
  delay: { hours: 24, minutes: 0 },
  description: 'After a purchase, to make sure the customer is satisfied.',
  stopTrigger: 'The customer confirms satisfaction, reports a problem (escalate to support) or says thanks.',
  template: { name: 'purchase_confirmation', language: 'en_US' },
};
const CART = {
  name: 'Cart reminder - 1 hour',
  color: 'yellow',
  delay: { hours: 1, minutes: 0 },
  description: 'The customer added products to the cart but did not finish the checkout.',
  stopTrigger: 'The customer completed the purchase or said they do not want the products.',
  text: 'Your cart is still saved. Shall I send you the link to finish your order?',
};
const QUOTE = {
  name: 'Price quote follow-up - 2 hours',
  color: 'orange',
  delay: { hours: 2, minutes: 0 },
  description: 'The customer asked for a price quote and has not answered since the quote was sent.',
  stopTrigger: 'The customer accepted or declined the quote.',
};
const COURSE = {
  name: 'Course enrolment - 6 hours',
  color: 'purple',
  delay: { hours: 6, minutes: 0 },
  description: 'The customer asked about a course but has not enrolled yet.',
  stopTrigger: 'The customer enrolled or is not interested.',
};
const REVIEW = {
  name: 'Review request - 3 days',
  color: 'pink',
  delay: { hours: 72, minutes: 0 },
  description: 'After a treatment, to ask the customer for a review of the clinic.',
  stopTrigger: 'The customer left a review or does not want to.',
  text: 'Thank you for visiting us! Would you leave us a short review?',
};

// ---- tests -------------------------------------------------------------------------------------

test('the console asks for the token and the chatbot, and refuses a wrong token', STEP, async () => {
  const response = await page.goto(`${BASE}/console`);
  assert.equal(response.status(), 200);
  assert.ok(page.url().endsWith('/console/'), 'redirected to /console/');
  await ready();
  assert.equal(await textOf('h1'), 'Open the console');
  assert.equal(await page.getAttribute('#setup-token', 'type'), 'password');

  await page.getByLabel('API token').fill('not-the-right-token-at-all');
  await page.getByLabel('Chatbot id').fill(CHATBOT);
  await page.click('#setup-submit');
  await page.waitForSelector('#token-error:not([hidden])');
  assert.match(await textOf('#token-error'), /not accepted/);
  assert.equal(await page.getAttribute('#setup-token', 'aria-invalid'), 'true');

  await page.getByLabel('API token').fill(TOKEN);
  await page.click('#setup-submit');
  await page.waitForSelector('#active-count');
  assert.equal(await textOf('#active-count'), '0 of 5 active');
  const stored = await page.evaluate(() => ({
    session: sessionStorage.getItem('followup-console.token'),
    local: Object.keys(localStorage).filter((k) => localStorage.getItem(k)?.includes('console-test')),
  }));
  assert.equal(stored.session, TOKEN, 'the token is kept in sessionStorage');
  assert.deepEqual(stored.local, [], 'the token is not in localStorage');
  // Create follow-up sits at the top right of the main view.
  const [heading, create] = await Promise.all([page.locator('#page-title').boundingBox(), page.locator('#create-follow-up').boundingBox()]);
  assert.ok(create.x > heading.x + heading.width, 'the create button is right of the heading');
  assert.ok(Math.abs(create.y + create.height / 2 - (heading.y + heading.height / 2)) < 20, 'on the same line');
});

test('the template step says when no WhatsApp business account is connected, and "Refresh from Meta" fills the picker once one is', STEP, async () => {
  await page.click('#create-follow-up');
  await ready();
  await page.click('.steps button[data-step="template"]');
  await page.check('#f-use-template');
  assert.match(await textOf('#template-options'), /No WhatsApp Business Account is connected to this chatbot/);
  await page.click('#refresh-templates');
  await page.waitForSelector('#template-alert:not([hidden])');
  assert.match(await textOf('#template-alert'), /No WhatsApp integration of this chatbot names a WhatsApp Business Account/);

  // Connecting WhatsApp with its business account; refreshing lists the account's templates.
  const connected = await apiCall('PUT', `/v1/chatbots/${CHATBOT}/integrations/whatsapp/${ACCOUNT}`,
    { access_token: 'EAAG-console-test-token', whatsapp_business_account_id: WABA });
  assert.ok([200, 201].includes(connected.status), `integration connected (${connected.status})`);
  assert.equal(connected.body.whatsapp_business_account_id, WABA);
  await page.click('#refresh-templates');
  await page.waitForFunction((n) => document.querySelectorAll('#template-options li.template-option').length === n, SEEDED_TEMPLATES.length);
  assert.equal(await page.isHidden('#template-alert'), true, 'the problem is gone');
  assert.equal(await textOf('#template-notice'), `Templates refreshed from Meta: ${SEEDED_TEMPLATES.length} in the catalogue.`);
  assert.match(await textOf('#templates-refreshed'), /Last refreshed from Meta:/);

  // Approved templates first, each with its language, category, billing and text.
  const listed = await page.$$eval('#template-options li.template-option', (items) => items.map((li) => [li.dataset.name, li.querySelector('input').disabled]));
  assert.deepEqual(listed.slice(0, 3), [['appointment_reminder', false], ['purchase_confirmation', false], ['visit_survey', false]]);
  const appointment = await optionText('appointment_reminder');
  for (const text of ['appointment_reminder', '(en_US)', 'Utility', 'Billed by Meta when sent after the 24-hour window', '1 placeholder(s)',
    'Hi {{1}}, shall we book your appointment?']) assert.ok(appointment.includes(text), `the option shows "${text}"`);
  assert.match(await optionText('visit_survey'), /Marketing\s*Billed by Meta for every send · 2 placeholder\(s\)/);

  // The others are shown with why they cannot be picked.
  assert.match(await optionText('spring_offer'), /PAUSED – Meta paused it for low quality/);
  assert.match(await optionText('treatment_follow_up', 'de'), /PENDING – waiting for Meta’s review/);
  assert.match(await optionText('order_photo'), /unsupported: follow-ups fill body placeholders only; this template needs a media or location header/);
  for (const [name, language] of [['spring_offer', 'en_US'], ['treatment_follow_up', 'de'], ['order_photo', 'en_US']]) {
    assert.equal(await page.isDisabled(option(name, language)), true, `${name} cannot be picked`);
  }
  await page.click('label[for="tpl-spring_offer-en_US"]', { force: true });
  assert.equal(await page.isChecked(option('spring_offer')), false, 'clicking a paused template picks nothing');
  assert.equal(await page.isHidden('#template-parameters-field'), true, 'no parameters without a template');
  await page.screenshot({ path: path.join(SHOTS, 'console-templates.png'), fullPage: true });
});

test('picking a template renders one parameter row per placeholder, and the saved follow-up has them', STEP, async () => {
  // Switching between templates: rows follow the picked template's placeholders.
  await page.check(option('visit_survey'));
  assert.equal(await page.locator('#template-parameters > li').count(), 2);
  assert.match(await textOf('#template-parameter-count'), /2 placeholder\(s\)/);
  await page.check(option('purchase_confirmation'));
  assert.equal(await page.locator('#template-parameters > li').count(), 0);
  assert.match(await textOf('#template-parameter-count'), /no placeholders/);
  await page.check(option('appointment_reminder'));
  assert.equal(await page.locator('#template-parameters > li').count(), 1);
  await page.selectOption('#f-param-0-type', 'profile_name');
  assert.equal(await textOf('#template-preview .prewrap'), 'Hi [customer’s profile name], shall we book your appointment? Reply with a time that suits you.');

  const survey = {
    name: 'Visit survey - 2 hours', color: 'purple', delay: { hours: 2, minutes: 0 },
    description: 'After a visit to the clinic, to ask how it went.', stopTrigger: 'The customer answered the survey.',
    template: { name: 'visit_survey', language: 'en_US', parameters: [{ type: 'profile_name' }, { type: 'text', text: 'Tuesday' }] },
  };
  await goto('#/new');
  await fillForm(survey);
  assert.match(await textOf('#review'), /visit_survey \(en_US\)\s*\{\{1\}\} = Customer’s profile name, \{\{2\}\} = Tuesday/);
  assert.match(await textOf('#review-cost'), /^Template sends are billed by Meta \(Marketing\)\./);
  await page.uncheck('#f-active');
  await save();
  await savedAndShown(survey.name);
  assert.match(await textOf('#cost'), /^Template sends are billed by Meta \(Marketing\)\./);
  const stored = await byName(survey.name);
  assert.deepEqual(stored.whatsapp_template, { name: 'visit_survey', language: 'en_US',
    parameters: [{ type: 'profile_name' }, { type: 'text', text: 'Tuesday' }] });
  assert.deepEqual(stored.cost.billed_sends, 'whatsapp_template_sends');
  assert.equal(stored.cost.template_category, 'MARKETING');
  assert.equal((await apiCall('DELETE', `/v1/chatbots/${CHATBOT}/follow-ups/${stored.id}`)).status, 204);
});

test('a new template is submitted for Meta’s review from the template step, with a missing example shown at its field', STEP, async () => {
  await goto('#/new');
  await page.click('.steps button[data-step="template"]');
  await page.check('#f-use-template');
  await page.click('#create-template');
  const dialog = page.getByRole('dialog', { name: 'Create a WhatsApp template' });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 't-new-name', 'focus starts at the name');
  await dialog.getByLabel('Template name', { exact: true }).fill('visit_feedback');
  assert.equal(await dialog.getByLabel('Template language', { exact: true }).inputValue(), 'en_US');
  await dialog.getByLabel(/^Utility/).check();
  assert.match(await textOf('#t-new-no-examples'), /no placeholders/);

  // One example field per placeholder, found as the text is typed.
  const text = dialog.getByLabel('Text', { exact: true });
  await text.fill('Hello {{1}}, how did you like your visit on {{2}}? {{3}}');
  assert.equal(await page.locator('#t-new-examples input').count(), 3);
  await dialog.getByLabel('Example for {{1}}').fill('Ann');
  await text.fill('Hello {{1}}, how did you like your visit on {{2}}? Reply 1 to 5.');
  assert.equal(await page.locator('#t-new-examples input').count(), 2);
  assert.equal(await dialog.getByLabel('Example for {{1}}').inputValue(), 'Ann', 'typed examples are kept');
  await dialog.getByLabel('Footer (optional)').fill('Example Dental Clinic');

  // The example of {{2}} is missing: the API refuses (422) and says so at that field.
  await page.click('#t-new-submit');
  await page.waitForSelector('#t-new-errors:not([hidden])');
  const exampleError = page.locator('#t-new-example-1 ~ .field-error');
  assert.ok(await exampleError.isVisible(), 'the error is next to the example of {{2}}');
  assert.ok((await exampleError.textContent()).length > 5);
  assert.equal(await page.getAttribute('#t-new-example-1', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#t-new-example-0', 'aria-invalid'), null);
  assert.match(await textOf('#t-new-errors'), /Example for \{\{2\}\}: /);
  assert.ok(await dialog.isVisible(), 'the dialog stays open');
  await page.screenshot({ path: path.join(SHOTS, 'console-template-create.png') });
  assert.ok(!(await catalogue()).some((t) => t.name === 'visit_feedback'), 'nothing was created');

  await dialog.getByLabel('Example for {{2}}').fill('12 May');
  await page.click('#t-new-submit');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await textOf('#template-notice'),
    'Template visit_feedback (en_US) was submitted. Meta is reviewing it; you can pick it once it is approved.');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'create-template', 'focus is back at the button');
  assert.equal(await page.isDisabled(option('visit_feedback')), true, 'it cannot be picked before Meta approves it');
  assert.match(await optionText('visit_feedback'), /PENDING – waiting for Meta’s review/);
  const created = (await catalogue()).find((t) => t.name === 'visit_feedback');
  assert.equal(created.status, 'PENDING');
  assert.equal(created.category, 'UTILITY');
  assert.equal(created.body_parameter_count, 2);
  const file = JSON.parse(fs.readFileSync(TEMPLATES_FILE, 'utf8'));
  assert.ok(file.accounts[WABA].some((t) => t.name === 'visit_feedback' && t.status === 'PENDING'), 'the local directory has it');

  // Once Meta approved it (here: the local file), a refresh makes it pickable.
  setTemplateStatus('visit_feedback', 'en_US', 'APPROVED');
  await page.click('#refresh-templates');
  await page.waitForFunction((id) => document.querySelector(id)?.disabled === false, option('visit_feedback'));
  await page.check(option('visit_feedback'));
  assert.equal(await page.locator('#template-parameters > li').count(), 2);  await goto('#/');
});

test('the appointment reminder is created through the form, with 422 errors shown at their fields', STEP, async () => {
  await page.click('#create-follow-up');
  await ready();
  // The name counter counts to 100.
  await page.getByLabel('Display name').fill('Appointment');
  assert.match(await textOf('.counter'), /^11 \/ 100/);
  // Next refuses a blank name and says so next to the field.
  await page.getByLabel('Display name').fill('   ');
  await page.click('#form-next');
  assert.match(await page.locator('#f-name ~ .field-error').textContent(), /required/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-name');

  await fillForm(APPOINTMENT);
  // The delay step showed the 2-6 h hint and the per-platform limits.
  await page.click('.steps button[data-step="delay"]');
  assert.match(await textOf('#delay-tip'), /2 to 6 hours/);
  const limits = await textOf('#delay-platforms');
  for (const text of ['WhatsApp', 'Instagram', 'Messenger', '24 h', 'Sends after 4 h']) assert.ok(limits.includes(text), `limits show "${text}"`);
  await page.click('.steps button[data-step="review"]');

  assert.deepEqual(await checklistStates(), [
    ['Clear name', 'ok'], ['Delay fits the platforms', 'ok'], ['Description says when', 'ok'],
    ['Stop trigger defined', 'ok'], ['Message set', 'ok'], ['Template if needed', 'ok']]);
  await page.screenshot({ path: path.join(SHOTS, 'console-form.png'), fullPage: true });

  assert.equal(await textOf('#review-cost'), 'Template sends are billed by Meta (Utility). Messages inside the 24-hour window are free.');

  // Meta pauses the template while the form is open: the API refuses it (422), and the
  // error is shown at the template picker.
  setTemplateStatus('appointment_reminder', 'en_US', 'PAUSED');
  await refreshCatalogue();
  await save();
  await page.waitForSelector('#error-summary:not([hidden])');
  assert.ok(await page.isVisible('section[data-step="template"]'), 'the form went to the template step');
  const fieldError = page.locator('#template-picker-error');
  assert.ok(await fieldError.isVisible());
  assert.match(await fieldError.textContent(), /PAUSED/);
  assert.equal(await page.getAttribute(option('appointment_reminder'), 'aria-invalid'), 'true');
  assert.match(await textOf('#error-summary'), /Template to send: /);
  assert.match(await page.getAttribute('.steps button[data-step="template"]', 'class'), /has-error/);
  assert.equal((await followUps()).items.length, 0, 'nothing was created');

  // Meta approves it again; "Refresh from Meta" shows it, still picked, and saving works.
  setTemplateStatus('appointment_reminder', 'en_US', 'APPROVED');
  await page.click('#refresh-templates');
  await page.waitForFunction(() => /refreshed from Meta/.test(document.querySelector('#template-notice')?.textContent));
  assert.equal(await page.isChecked(option('appointment_reminder')), true, 'the pick survives the refresh');
  assert.equal(await page.isDisabled(option('appointment_reminder')), false);
  await page.click('.steps button[data-step="review"]');
  await save();
  await savedAndShown(APPOINTMENT.name);
  assert.match(await textOf('#notices'), /created/);

  const stored = await byName(APPOINTMENT.name);
  assert.equal(stored.color, 'blue');
  assert.deepEqual(stored.delay, { mode: 'manual', minutes: 240 });
  assert.deepEqual(stored.message, { mode: 'custom', text: APPOINTMENT.text });
  assert.deepEqual(stored.whatsapp_template, { name: 'appointment_reminder', language: 'en_US', parameters: [{ type: 'profile_name' }] });
  assert.equal(stored.active, true);
});

test('the after-sales check is created with an AI message, and the clamped delays are shown', STEP, async () => {
  await goto('#/');
  await page.click('#create-follow-up');
  await ready();
  await fillForm(AFTER_SALES);
  const states = Object.fromEntries(await checklistStates());
  assert.equal(states['Delay fits the platforms'], 'check', '24 h is past the window on Instagram and Messenger');
  assert.equal(states['Template if needed'], 'ok');
  assert.match(await textOf('#checklist'), /WhatsApp sends the template/);
  await save();
  await savedAndShown(AFTER_SALES.name);
  const notice = await textOf('#notices');
  assert.match(notice, /Instagram: the delay is shortened/);
  assert.match(notice, /Messenger: the delay is shortened/);
  assert.equal(await textOf('#cost'), 'Template sends are billed by Meta (Utility). Messages inside the 24-hour window are free.');
  const table = await textOf('#effective-delays');
  assert.match(table, /WhatsApp\s*24 h\s*WhatsApp template/);
  assert.match(table, /Instagram\s*23 h 45 min/);

  const stored = await byName(AFTER_SALES.name);
  assert.equal(stored.color, 'green');
  assert.deepEqual(stored.message, { mode: 'ai' });
  assert.equal(stored.whatsapp_template.name, 'purchase_confirmation');
  assert.deepEqual(stored.delay, { mode: 'manual', minutes: 1440 });

  await goto('#/');
  const card = page.locator(`li.card[data-id="${stored.id}"]`);
  assert.match((await card.textContent()).replace(/\u00a0/g, ' '), /Instagram: 23 h 45 min \(24-hour limit\)/);
  assert.match((await card.textContent()).replace(/\u00a0/g, ' '), /Written by the AI/);
  assert.equal(await textOf('#active-count'), '2 of 5 active');
});

test('creating more follow-ups hits the 5-active limit, and the console explains it', STEP, async () => {
  for (const spec of [CART, QUOTE, COURSE]) {
    await goto('#/new');
    await fillForm(spec);
    assert.match(await textOf('#review-cost'), /^No billed sends/);
    await save();
    await savedAndShown(spec.name);
    assert.equal(await textOf('#cost'), 'No billed sends: only free-form messages inside the 24-hour window, which Meta does not bill.');
  }
  await goto('#/');
  assert.equal(await textOf('#active-count'), '5 of 5 active');
  assert.match(await textOf('#active-limit'), /limit is reached/);

  // A sixth: the form says it will be saved inactive; switching it on anyway is refused (409).
  await page.click('#create-follow-up');
  await ready();
  await fillForm(REVIEW);
  assert.equal(await page.isChecked('#f-active'), false);
  assert.match(await textOf('#active-hint'), /already active/);
  assert.equal((await checklistStates())[5][1], 'check', 'a 3-day delay without template needs a look');
  await page.check('#f-active');
  await save();
  const limitError = page.locator('#f-active').locator('xpath=ancestor::div[contains(@class,"field")]').locator('.field-error');
  await limitError.waitFor();
  assert.match(await limitError.textContent(), /5 follow-ups are already active/);
  assert.equal((await followUps()).items.length, 5, 'nothing was created');

  await page.uncheck('#f-active');
  await save();
  await savedAndShown(REVIEW.name);
  assert.equal(await textOf('#status-badge'), 'Inactive');

  // Switching it on from the list is refused too, with the message; nothing changes.
  await goto('#/');
  const review = await byName(REVIEW.name);
  const toggle = page.getByRole('switch', { name: `Active ${REVIEW.name}` });
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  await toggle.click();
  await page.waitForSelector('#list-alert:not([hidden])');
  assert.match(await textOf('#list-alert'), /Only 5 follow-ups can be active at once/);
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  assert.equal((await byName(REVIEW.name)).active, false);
  assert.equal(review.active, false);
  assert.equal((await followUps()).active_count, 5);
});

test('the list filters by colour and by status', STEP, async () => {
  await goto('#/');
  await page.getByLabel('Colour', { exact: true }).selectOption('blue');
  await page.waitForFunction(() => document.querySelectorAll('#follow-up-list > li').length === 1);
  assert.deepEqual(await page.$$eval('#follow-up-list .card-title', (els) => els.map((e) => e.textContent)), [APPOINTMENT.name]);

  await page.getByLabel('Colour', { exact: true }).selectOption('pink');
  await page.waitForFunction(() => document.querySelector('#follow-up-list > li')?.dataset.color === 'pink');
  await page.getByLabel('Colour', { exact: true }).selectOption('red');
  await page.waitForFunction(() => document.querySelectorAll('#follow-up-list > li').length === 0);
  assert.match(await textOf('#list-summary'), /No follow-up matches/);

  await page.getByLabel('Colour', { exact: true }).selectOption('');
  await page.getByLabel('Status', { exact: true }).selectOption('false');
  await page.waitForFunction(() => document.querySelectorAll('#follow-up-list > li').length === 1);
  assert.deepEqual(await page.$$eval('#follow-up-list .card-title', (els) => els.map((e) => e.textContent)), [REVIEW.name]);
  assert.equal(await textOf('#active-count'), '5 of 5 active', 'the count ignores the filter');
  await page.getByLabel('Status', { exact: true }).selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('#follow-up-list > li').length === 6);
});

test('a follow-up is edited with the same form', STEP, async () => {
  const cart = await byName(CART.name);
  await goto(`#/f/${cart.id}`);
  await page.click('#edit-follow-up');
  await ready();
  assert.equal(await page.inputValue('#f-name'), CART.name, 'the form is filled in');
  assert.equal(await page.isChecked('#f-color-yellow'), true);
  await page.getByLabel('Display name').fill('Cart reminder - 30 minutes');
  await next('delay');
  assert.equal(await page.inputValue('#f-delay-hours'), '1');
  await page.getByLabel('Hours', { exact: true }).fill('0');
  await page.getByLabel('Minutes', { exact: true }).fill('30');
  await page.click('.steps button[data-step="message"]');
  assert.equal(await page.inputValue('#f-message-text'), CART.text);
  await page.click('.steps button[data-step="review"]');
  assert.equal(await textOf('#form-save'), 'Save changes');
  await save();
  await savedAndShown('Cart reminder - 30 minutes');
  assert.match(await textOf('#notices'), /saved/);
  const stored = await byName('Cart reminder - 30 minutes');
  assert.equal(stored.id, cart.id);
  assert.deepEqual(stored.delay, { mode: 'manual', minutes: 30 });
  assert.equal(stored.revision, cart.revision + 1);
  assert.equal(stored.active, true, 'editing keeps it active');
});

test('a follow-up is deactivated and the count goes down', STEP, async () => {
  const quote = await byName(QUOTE.name);
  await goto(`#/f/${quote.id}`);
  assert.equal(await textOf('#toggle-active'), 'Deactivate');
  await page.click('#toggle-active');
  await page.waitForFunction(() => document.querySelector('#status-badge')?.textContent === 'Inactive');
  assert.equal((await byName(QUOTE.name)).active, false);
  await goto('#/');
  assert.equal(await textOf('#active-count'), '4 of 5 active');
  assert.equal(await page.getByRole('switch', { name: `Active ${QUOTE.name}` }).getAttribute('aria-checked'), 'false');
});

test('a follow-up is deleted after a confirmation', STEP, async () => {
  const review = await byName(REVIEW.name);
  await goto(`#/f/${review.id}`);
  await page.click('#delete-follow-up');
  const dialog = page.getByRole('dialog', { name: `Delete “${REVIEW.name}”?` });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'cancel-delete', 'the safe choice has focus');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await apiCall('GET', `/v1/chatbots/${CHATBOT}/follow-ups/${review.id}`)).status, 200, 'still there after cancelling');

  await page.click('#delete-follow-up');
  await page.click('#confirm-delete');
  await page.waitForURL(/#\/$/);
  await ready();
  assert.match(await textOf('#notices'), /deleted/);
  assert.equal((await apiCall('GET', `/v1/chatbots/${CHATBOT}/follow-ups/${review.id}`)).status, 404);
  assert.equal(await page.locator(`li.card[data-id="${review.id}"]`).count(), 0);
  await page.screenshot({ path: path.join(SHOTS, 'console-main.png'), fullPage: true });
});

test('conversation logs from signed webhooks read in plain words, in time order', STEP, async () => {
  const connected = await apiCall('PUT', `/v1/chatbots/${CHATBOT}/integrations/whatsapp/${ACCOUNT}`,
    { access_token: 'EAAG-console-test-token' });
  assert.ok([200, 201].includes(connected.status), `integration connected (${connected.status})`);

  // A: the cart reminder (30 min) came due and went out; then the customer wrote again.
  const a = `whatsapp:${ACCOUNT}:16315551181`;
  await customerWrites('16315551181', 'I added the electric toothbrush to my cart but have not checked out yet.', 90);
  await logUntil(a, (e) => e.some((x) => x.kind === 'sent'), 'a sent follow-up');
  await new Promise((r) => setTimeout(r, 1100)); // Meta's timestamps are whole seconds
  await customerWrites('16315551181', 'Is my cart still saved?', 0);
  await logUntil(a, (e) => e.some((x) => x.kind === 'cancelled' && x.reason === 'customer_replied'), 'a cancellation');
  // B: written 25 hours ago: past the window, only WhatsApp templates still go out.
  const b = `whatsapp:${ACCOUNT}:16315552222`;
  await customerWrites('16315552222', 'Can I book an appointment for Tuesday? I am also curious about the beginner course.', 25 * 60);
  await logUntil(b, (e) => e.some((x) => x.kind === 'skipped' && x.reason === 'window_closed')
    && e.some((x) => x.kind === 'sent' && x.sent_as === 'template'), 'a closed window and a template');
  // C: the customer declined: the stop trigger ends everything.
  const c = `whatsapp:${ACCOUNT}:16315553333`;
  await customerWrites('16315553333', 'I wanted to book an appointment, but no thanks, I am not interested anymore.', 180);
  await logUntil(c, (e) => e.some((x) => x.kind === 'stopped'), 'a stop');

  await goto('#/');
  await page.getByRole('link', { name: 'Conversations' }).click();
  await ready();
  assert.equal(await page.locator('#conversation-list tbody tr').count(), 3);
  await page.getByRole('link', { name: /16315551181/ }).click();
  await ready();
  assert.equal(await textOf('#page-title'), 'Conversation with 16315551181');

  const entries = await page.$$eval('#log li', (items) => items.map((li) => ({
    kind: li.dataset.kind, reason: li.dataset.reason, text: li.querySelector('.entry-text').textContent.replace(/\u00a0/g, ' '),
  })));
  assert.equal(entries[0].kind, 'customer_message', 'oldest first');
  assert.equal(entries[0].text, 'The customer wrote a message.');
  const kinds = entries.map((e) => e.kind);
  assert.ok(kinds.indexOf('scheduled') < kinds.indexOf('sent'));
  assert.ok(kinds.indexOf('sent') < kinds.indexOf('cancelled'));
  const text = entries.map((e) => e.text).join('\n');
  assert.match(text, /Scheduled “Cart reminder - 30 minutes” 30 min after the customer’s message, for/);
  assert.match(text, /Scheduled “After-sales check - 24 hours” 24 h after the customer’s message, for .*It will go out as the WhatsApp template\./);
  assert.match(text, /Sent “Cart reminder - 30 minutes” as a text message\./);
  assert.match(text, /Cancelled “Appointment reminder - 4 hours” because the customer replied\./);
  assert.ok(await page.locator('#pending li').count() >= 3, 'the new silence period has pending follow-ups');
  await page.screenshot({ path: path.join(SHOTS, 'console-log.png'), fullPage: true });

  await goto(`#/c/${encodeURIComponent(b)}`);
  const textB = await textOf('#log');
  assert.match(textB, /Skipped “Course enrolment - 6 hours”: the 24-hour window was closed\./);
  assert.match(textB, /Sent “Appointment reminder - 4 hours” as the WhatsApp template\./);
  assert.match(textB, /Skipped “Cart reminder - 30 minutes”: its description does not fit this conversation\./);

  await goto(`#/c/${encodeURIComponent(c)}`);
  const textC = await textOf('#log');
  assert.match(textC, /Stopped “.*”: the stop trigger was met\./);
  assert.match(textC, /Cancelled “.*”: the stop trigger was met\./);
  // "Preview" asks the API's dry run: it explains, and writes nothing to the log.
  const entriesC = await page.locator('#log li').count();
  await page.locator('#preview-follow-up').selectOption({ label: 'Appointment reminder - 4 hours' });
  await page.locator('#preview-run').click();
  await page.locator('#preview-result [data-action]').waitFor();
  assert.equal(await page.locator('#preview-result [data-action]').getAttribute('data-action'), 'skip');
  assert.match(await textOf('#preview-result'), /It would not be sent: the stop trigger was already met\./);
  const afterPreview = await apiCall('GET', `/v1/chatbots/${CHATBOT}/conversations/${encodeURIComponent(c)}/log?limit=100`);
  assert.equal(afterPreview.body.entries.length, entriesC, 'a preview writes nothing');

  // The cart reminder's details show the delivery, the counts and the reply rate.
  const cart = await byName('Cart reminder - 30 minutes');
  await goto(`#/f/${cart.id}`);
  assert.equal(await textOf('#stat-sent dd'), '1');
  assert.equal(await textOf('#stat-replied dd'), '1', 'the customer wrote within 24 h of the send');
  assert.equal(await textOf('#stat-reply-rate dd'), '100%');
  const deliveries = await textOf('#deliveries');
  assert.match(deliveries, /16315551181/);
  assert.match(deliveries, /WhatsApp/);
  assert.match(deliveries, /sent/);
  assert.match(await textOf('.panel:has(#stats-title)'), /Cancelled because the customer replied|Skipped: description did not fit/);
  await page.screenshot({ path: path.join(SHOTS, 'console-details.png'), fullPage: true });
  await goto('#/conversations');
  await page.screenshot({ path: path.join(SHOTS, 'console-conversations.png'), fullPage: true });
});

test('a follow-up whose template Meta paused is flagged on the list and the details, and stays picked when edited', STEP, async () => {
  setTemplateStatus('appointment_reminder', 'en_US', 'PAUSED');
  await refreshCatalogue();
  const appointment = await byName(APPOINTMENT.name);
  assert.deepEqual(appointment.warnings.map((w) => w.code), ['template_not_approved']);

  await goto('#/');
  const card = page.locator(`li.card[data-id="${appointment.id}"] .card-warning`);
  assert.match(await card.textContent(), /The WhatsApp template appointment_reminder \(en_US\) is not approved by Meta right now\. WhatsApp sends after 24 hours are skipped/);
  const others = await page.locator('li.card .card-warning').count();
  assert.equal(others, 1, 'only the follow-up with the paused template is flagged');

  await goto(`#/f/${appointment.id}`);
  const box = await textOf('#template-warnings');
  assert.match(box, /Needs attention/);
  assert.match(box, /not approved by Meta right now/);
  assert.match(box, /Status at Meta: PAUSED – Meta paused it for low quality/);
  assert.match(await textOf('#cost'), /^Template sends are billed by Meta \(Utility\)/);
  // Conversation B got it as a template past the 24-hour window: a billed send.
  assert.equal(await page.locator('#deliveries [data-billed="true"]').count(), 1);
  assert.match(await textOf('#deliveries'), /WhatsApp template\s*appointment_reminder\s*billed by Meta/);
  await page.screenshot({ path: path.join(SHOTS, 'console-template-warning.png'), fullPage: true });

  // Editing: the template is still picked (it cannot be picked anew) and the form says why.
  await page.click('#edit-follow-up');
  await ready();
  await page.click('.steps button[data-step="template"]');
  assert.equal(await page.isChecked(option('appointment_reminder')), true);
  assert.equal(await page.isDisabled(option('appointment_reminder')), true);
  assert.match(await textOf('#template-current-warning'), /appointment_reminder \(en_US\), which cannot be sent now: PAUSED/);
  assert.equal(await page.locator('#template-parameters > li').count(), 1);
  assert.equal(await page.inputValue('#f-param-0-type'), 'profile_name');
  await page.click('.steps button[data-step="review"]');
  assert.equal(Object.fromEntries(await checklistStates())['Template if needed'], 'check');
  // Other changes still save: the unchanged template is not checked again.
  await page.click('.steps button[data-step="basics"]');
  await page.check('#f-color-red');
  await page.click('.steps button[data-step="review"]');
  await save();
  await savedAndShown(APPOINTMENT.name);
  assert.match(await textOf('#notices'), /saved[\s\S]*The WhatsApp template appointment_reminder \(en_US\) is not approved/);
  const saved = await byName(APPOINTMENT.name);
  assert.equal(saved.revision, appointment.revision + 1);
  assert.equal(saved.color, 'red');
  assert.deepEqual(saved.whatsapp_template, appointment.whatsapp_template);

  // Meta approves it again: the warnings are gone.
  setTemplateStatus('appointment_reminder', 'en_US', 'APPROVED');
  await refreshCatalogue();
  await goto('#/');
  assert.equal(await page.locator('li.card .card-warning').count(), 0);
  assert.deepEqual((await byName(APPOINTMENT.name)).warnings, []);
});

test('German and Spanish translations are complete and switch the whole console', STEP, async () => {
  const missing = await page.evaluate(async () => {
    const { STRINGS } = await import('./i18n.js');
    const keys = Object.keys(STRINGS.en);
    return Object.fromEntries(['de', 'es'].map((l) => [l, keys.filter((k) => !(k in STRINGS[l]))]));
  });
  assert.deepEqual(missing, { de: [], es: [] });

  await goto('#/');
  await rerendered(() => page.getByLabel('Language', { exact: true }).selectOption('de'));
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  assert.equal(await textOf('#create-follow-up'), 'Follow-up anlegen');
  assert.equal(await textOf('#active-count'), '4 von 5 aktiv');
  await page.click('#create-follow-up');
  await ready();
  assert.equal(await textOf('#page-title'), 'Follow-up anlegen');
  assert.ok(await page.getByLabel('Anzeigename', { exact: true }).isVisible());

  await rerendered(() => page.getByLabel('Sprache', { exact: true }).selectOption('es'));
  assert.ok(await page.getByLabel('Nombre visible', { exact: true }).isVisible());
  await goto('#/');
  assert.equal(await textOf('#create-follow-up'), 'Crear seguimiento');
  assert.equal(await textOf('#active-count'), '4 de 5 activos');

  await rerendered(() => page.getByLabel('Idioma', { exact: true }).selectOption('en'));
  assert.equal(await textOf('#create-follow-up'), 'Create follow-up');
});

test('keyboard use, visible focus, labels, and a 375 px wide screen', STEP, async () => {
  await goto('#/');
  await page.reload();
  await ready();
  // The skip link is the first stop and lands on the heading.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'page-title');

  // A switch works with the keyboard and shows where focus is.
  const course = await byName(COURSE.name);
  const toggle = page.getByRole('switch', { name: `Active ${COURSE.name}` });
  await toggle.focus();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Shift+Tab');
  const outline = await toggle.evaluate((el) => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth);
  assert.equal(outline, 'solid 3px', 'focus is visible');
  await page.keyboard.press('Space');
  await page.waitForFunction((id) => document.querySelector(`button[data-id="${id}"]`)?.getAttribute('aria-checked') === 'false', course.id);
  assert.equal((await byName(COURSE.name)).active, false);
  await page.keyboard.press('Space');
  await page.waitForFunction((id) => document.querySelector(`button[data-id="${id}"]`)?.getAttribute('aria-checked') === 'true', course.id);
  assert.equal((await byName(COURSE.name)).active, true);

  // Every form control in every step has a label.
  await goto('#/new');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.id || el.name));
  assert.deepEqual(unlabelled, []);
  // The form can be filled with the keyboard alone: type, Enter moves to the next step.
  await page.focus('#f-name');
  await page.keyboard.type('Keyboard only');
  await page.keyboard.press('Enter');
  await page.waitForSelector('section[data-step="delay"]:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'step-delay-title');
  // A template is picked with the keyboard: Space picks, the arrow keys move between the
  // templates that can be picked.
  await page.click('.steps button[data-step="template"]');
  await page.focus('#f-use-template');
  await page.keyboard.press('Space');
  await page.focus(option('appointment_reminder'));
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked(option('appointment_reminder')), true);
  assert.equal(await page.locator('#template-parameters > li').count(), 1);
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.isChecked(option('purchase_confirmation')), true);
  assert.equal(await page.locator('#template-parameters > li').count(), 0);
  // The create dialog closes with Escape and gives focus back.
  await page.focus('#create-template');
  await page.keyboard.press('Enter');
  await page.getByRole('dialog', { name: 'Create a WhatsApp template' }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog', { name: 'Create a WhatsApp template' }).waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'create-template');

  await page.setViewportSize({ width: 375, height: 812 });
  for (const [hash, label] of [['#/', 'main view'], ['#/new', 'form'], [`#/f/${course.id}`, 'details'], ['#/conversations', 'conversations'],
    [`#/c/${encodeURIComponent(`whatsapp:${ACCOUNT}:16315551181`)}`, 'log']]) {
    await goto(hash);
    await noHorizontalScroll(label);
  }
  await goto('#/new');
  await page.getByLabel('Display name').fill('Inquiry follow-up - 24 hours');
  await next('delay');
  await noHorizontalScroll('form, delay step');
  await page.screenshot({ path: path.join(SHOTS, 'console-form-narrow.png'), fullPage: true });
  await goto('#/');
  const box = await page.locator('#create-follow-up').boundingBox();
  assert.ok(box.x + box.width <= 375 && box.width >= 44 && box.height >= 44, 'the create button fits and is big enough to tap');
  await page.screenshot({ path: path.join(SHOTS, 'console-narrow.png'), fullPage: true });
  // German runs longest; it fits too.
  await rerendered(() => page.getByLabel('Language', { exact: true }).selectOption('de'));
  await noHorizontalScroll('main view, German');
  await goto('#/new');
  await page.getByLabel('Anzeigename', { exact: true }).fill('Anfrage nachfassen - 24 Stunden');
  for (const key of ['delay', 'when', 'message', 'template', 'review']) {
    await page.click(`.steps button[data-step="${key}"]`);
    if (key === 'template') {
      await page.check('#f-use-template');
      await page.check(option('visit_survey'));
    }
    await noHorizontalScroll(`form step ${key}, German`);
  }
  await page.screenshot({ path: path.join(SHOTS, 'console-narrow-de.png'), fullPage: true });
  await page.click('.steps button[data-step="template"]');
  await page.click('#create-template');
  const dialog = page.getByRole('dialog', { name: 'WhatsApp-Vorlage anlegen' });
  await dialog.waitFor();
  await dialog.getByLabel('Text', { exact: true }).fill('Hallo {{1}}, wie war Ihr Besuch am {{2}}?');
  const fits = await page.$eval('#template-create', (d) => [d.scrollWidth, d.clientWidth, d.getBoundingClientRect().right]);
  assert.ok(fits[0] <= fits[1] && fits[2] <= 375, `the create dialog fits: ${fits}`);
  await page.screenshot({ path: path.join(SHOTS, 'console-template-create-narrow-de.png') });
  await page.keyboard.press('Escape');
  await rerendered(() => page.getByLabel('Sprache', { exact: true }).selectOption('en'));
  await page.setViewportSize({ width: 1200, height: 900 });
});

test('the console raised no script errors', () => {
  assert.deepEqual(pageErrors, []);
});
