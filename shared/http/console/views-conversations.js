// Conversations and their logs: every decision in time order, in plain words.
import { h, clear } from './dom.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { duration, platformName, timeEl } from './format.js';

export async function renderConversations(root, app) {
  const data = await api.conversations();
  if (!app.isCurrent(root)) return;
  app.title(t('conversations.title'));
  root.append(
    h('div', { class: 'page-head' }, h('h1', { id: 'page-title', tabindex: '-1' }, t('conversations.title'))),
    h('p', { class: 'muted' }, t('conversations.intro')));
  if (!data.items.length) {
    root.append(h('p', { class: 'empty' }, t('conversations.none')));
    return;
  }
  root.append(h('table', { class: 'stack', id: 'conversation-list' },
    h('caption', { class: 'sr-only' }, t('conversations.title')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('conversations.customer')),
      h('th', { scope: 'col' }, t('conversations.channel')),
      h('th', { scope: 'col' }, t('conversations.lastMessage')))),
    h('tbody', {}, data.items.map((c) => h('tr', { 'data-id': c.id },
      h('td', { 'data-label': t('conversations.customer') },
        h('a', { href: `#/c/${encodeURIComponent(c.id)}` }, c.customer_id,
          h('span', { class: 'sr-only' }, ` (${t('conversations.openLog')})`))),
      h('td', { 'data-label': t('conversations.channel') },
        platformName(c.platform), h('span', { class: 'block hint' }, t('conversations.account', { id: c.business_account_id }))),
      h('td', { 'data-label': t('conversations.lastMessage') },
        c.last_customer_message_at ? timeEl(h, c.last_customer_message_at) : '–'))))));
}

export async function renderLog(root, app, conversationId) {
  const [conversation, page, followUps] = await Promise.all([
    api.conversation(conversationId),
    api.conversationLog(conversationId),
    api.listFollowUps({}),
  ]);
  if (!app.isCurrent(root)) return;
  const names = new Map(followUps.items.map((f) => [f.id, f.name]));
  const nameOf = (fid) => (names.has(fid) ? `“${names.get(fid)}”` : t('log.deletedFollowUp'));
  const title = t('log.title', { customer: conversation.customer_id });
  app.title(title);

  // The API pages newest first; the view reads oldest first.
  let entries = [...page.entries];
  let nextBefore = page.next_before;
  const timeline = h('ol', { class: 'timeline', id: 'log' });
  const older = h('button', { type: 'button', class: 'button secondary small', id: 'load-older' }, t('log.older'));
  older.addEventListener('click', async () => {
    older.disabled = true;
    const more = await api.conversationLog(conversationId, nextBefore).catch((e) => { app.alert(app.describeError(e)); return null; });
    older.disabled = false;
    if (!more) return;
    entries = entries.concat(more.entries);
    nextBefore = more.next_before;
    draw();
    timeline.querySelector('li')?.focus();
  });

  function draw() {
    older.hidden = !nextBefore;
    const sorted = [...entries].sort((a, b) => a.seq - b.seq);
    clear(timeline, ...sorted.map((entry) => h('li', { class: `entry entry-${entry.kind}`, 'data-kind': entry.kind, 'data-reason': entry.reason || '', tabindex: '-1' },
      h('span', { class: 'entry-kind' }, t(`log.kind.${entry.kind}`, {}, entry.kind)),
      h('span', { class: 'entry-text' }, describe(entry, nameOf)),
      h('span', { class: 'entry-time' }, timeEl(h, entry.kind === 'customer_message' ? entry.sent_at : entry.at)))));
  }
  draw();

  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/conversations' }, t('log.back'))),
    h('div', { class: 'page-head' }, h('h1', { id: 'page-title', tabindex: '-1' }, title)),
    h('p', { class: 'muted' },
      platformName(conversation.platform), ' · ', t('conversations.account', { id: conversation.business_account_id }),
      conversation.last_customer_message_at
        ? [' · ', t('conversations.lastMessage'), ': ', timeEl(h, conversation.last_customer_message_at)]
        : null),
    h('section', { class: 'panel', 'aria-labelledby': 'pending-title' },
      h('h2', { id: 'pending-title' }, t('log.pending')),
      conversation.pending.length
        ? h('ul', { class: 'plain', id: 'pending' }, conversation.pending.map((p) => h('li', {},
          t('log.pendingItem', { name: nameOf(p.follow_up_id) }), ' ', timeEl(h, p.due_at))))
        : h('p', { class: 'muted' }, t('log.nothingPending'))),
    previewPanel(app, conversationId, followUps.items),
    h('section', { class: 'panel', 'aria-labelledby': 'log-title' },
      h('h2', { id: 'log-title' }, t('log.heading')),
      h('p', { class: 'hint' }, t('log.intro')),
      older,
      timeline));
}

/** "Preview": what a follow-up would do here if it came due now (the API's dry run). */
function previewPanel(app, conversationId, followUps) {
  const section = h('section', { class: 'panel', 'aria-labelledby': 'preview-title', id: 'preview' },
    h('h2', { id: 'preview-title' }, t('preview.heading')),
    h('p', { class: 'hint' }, t('preview.intro')));
  if (!followUps.length) {
    section.append(h('p', { class: 'muted' }, t('preview.noFollowUps')));
    return section;
  }
  const select = h('select', { id: 'preview-follow-up' },
    followUps.map((f) => h('option', { value: f.id }, f.name)));
  const button = h('button', { type: 'button', class: 'button secondary small', id: 'preview-run' }, t('preview.run'));
  const result = h('div', { id: 'preview-result', 'aria-live': 'polite' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    const run = await api.dryRun(conversationId, select.value).catch((e) => { app.alert(app.describeError(e)); return null; });
    button.disabled = false;
    if (run) clear(result, ...describePreview(run));
  });
  section.append(
    h('p', {}, h('label', { for: 'preview-follow-up' }, t('preview.followUp')), ' ', select, ' ', button),
    result);
  return section;
}

/** A dry run's answer in plain words: the decision, the judge's grounds, message and cost. */
function describePreview(run) {
  const lines = [];
  const decision = run.action === 'wait'
    ? h('span', {}, t('preview.action.wait'), ' ', timeEl(h, run.wait_until), '.')
    : t(`preview.action.${run.action}`, { reason: t(`preview.reason.${run.reason}`, {}, run.reason || '') });
  lines.push(h('p', { class: `preview-action preview-${run.action}`, 'data-action': run.action }, decision));
  const judge = run.judge || {};
  if (judge.error) lines.push(h('p', { class: 'hint' }, t('preview.judgeError', { error: judge.error })));
  if (judge.asked && !judge.error) {
    const grounds = judge.stop_trigger_met ? judge.stop_reason : judge.applies_reason;
    const quote = judge.stop_trigger_met ? judge.evidence?.stop : judge.evidence?.applies;
    lines.push(h('p', { class: 'hint' }, t('preview.judge', { reason: grounds || '–' }),
      quote ? [' ', t('preview.evidence', { quote })] : null,
      judge.unsure ? [' ', t('preview.unsure', { reason: judge.unsure })] : null));
  }
  if (run.message) {
    const text = run.message.sent_as === 'text' ? run.message.text : (run.message.body || run.message.parameters.join(', '));
    lines.push(h('p', {}, run.message.sent_as === 'template'
      ? t('preview.template', { name: run.message.template_name, language: run.message.language })
      : t('preview.text')),
    h('blockquote', { id: 'preview-message' }, text));
  }
  const cost = run.cost || {};
  if (cost.meta_fee) {
    lines.push(h('p', { class: 'hint' }, cost.meta_fee === 'free'
      ? t('preview.feeFree') : t('preview.feeTemplate', { category: cost.meta_fee }),
    cost.model_input_tokens ? [' ', t('preview.tokens', { input: cost.model_input_tokens, output: cost.model_output_tokens })] : null));
  }
  return lines;
}

/** One log entry as a sentence a non-engineer can read. */
function describe(entry, nameOf) {
  const name = entry.follow_up_id ? nameOf(entry.follow_up_id) : '';
  switch (entry.kind) {
    case 'customer_message':
      return entry.message_kind === 'text'
        ? t('log.customerMessage')
        : t('log.customerMessageKind', { kind: t(`messageKind.${entry.message_kind}`, {}, entry.message_kind) });
    case 'scheduled': {
      const parts = [entry.requested_minutes === null
        ? t('log.scheduledAi', { name, delay: duration(entry.effective_minutes) })
        : t('log.scheduled', { name, delay: duration(entry.effective_minutes) })];
      parts.push(' ', timeEl(h, entry.due_at), '.');
      if (entry.clamped) parts.push(' ', t('log.clamped'));
      if (entry.send_as === 'template') parts.push(' ', t('log.asTemplate'));
      return h('span', {}, parts);
    }
    case 'cancelled':
    case 'dropped':
    case 'skipped':
      return t(`log.${entry.kind}.${entry.reason}`, { name }, `${entry.kind}: ${entry.reason}`);
    case 'waiting':
      return h('span', {}, t('log.waiting', { name }), ' ', timeEl(h, entry.until), '.');
    case 'stopped':
      return t('log.stopped', { name });
    case 'sent':
      return t(entry.sent_as === 'template' ? 'log.sentTemplate' : 'log.sentText', { name });
    case 'failed':
      return t('log.failed', { name, error: entry.error });
    case 'outcome_unknown':
      return t('log.outcomeUnknown', { name });
    default:
      return entry.kind;
  }
}
