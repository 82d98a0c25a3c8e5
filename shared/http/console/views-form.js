// Create and edit, step by step: name and colour, delay, when it applies, message,
// WhatsApp template, review. Edit uses the same form (a full PUT with If-Match).
import { h, clear, uid, focus, charCount } from './dom.js';
import { api, ApiError } from './api.js';
import { t, currentLanguage } from './i18n.js';
import {
  COLORS, PLATFORMS, ACTIVE_LIMIT, WINDOW_MINUTES, colorChip, delayText, duration,
  platformName, templateName, timeEl, categoryName, billingText, templateStatusText,
  bodyPreview, placeholderNumbers, costText, warningText,
} from './format.js';

const STEPS = ['basics', 'delay', 'when', 'message', 'template', 'review'];
const LIMITS = { name: 100, description: 2000, stop_trigger: 1000, text: 1000, param: 1024 };
const MAX_PARAMETERS = 20;
const MAX_DELAY_MINUTES = 43200;

function stepOfField(field) {
  const top = field.split(/[.[]/)[0];
  return {
    name: 'basics', color: 'basics', delay: 'delay', description: 'when', stop_trigger: 'when',
    message: 'message', whatsapp_template: 'template',
  }[top] || 'review';
}

export async function renderForm(root, app, id) {
  const editing = Boolean(id);
  const [list, current, catalogueResult] = await Promise.all([
    api.listFollowUps({}),
    editing ? api.getFollowUp(id) : Promise.resolve(null),
    // The template catalogue; the form works without it (the picker then says why).
    api.templates().then((data) => ({ data }), (error) => ({ error })),
  ]);
  if (!app.isCurrent(root)) return;
  app.title(editing ? t('form.editTitle', { name: current.name }) : t('form.createTitle'));

  // The latest free-form send the service allows: 24 h minus its safety margin (15 min
  // unless configured otherwise; a clamped delay of an existing follow-up tells).
  const clampedTo = list.items.flatMap((f) => f.effective_delays || []).find((p) => p.clamped);
  const windowLimit = clampedTo ? clampedTo.effective_minutes : WINDOW_MINUTES - 15;

  const catalogueAnswer = catalogueResult.data || null;
  const catalogueFailed = catalogueResult.error || null;

  let step = 'basics';
  const slots = new Map(); // field key -> {error: <p>, input: <element>, step}
  const stepSections = new Map();
  const stepButtons = new Map();

  // ---- helpers --------------------------------------------------------------------------
  function errorSlot(key, input, stepName) {
    const el = h('p', { class: 'field-error', id: uid('err'), hidden: true });
    slots.set(key, { error: el, input, step: stepName });
    if (input) {
      const describedBy = input.getAttribute('aria-describedby');
      input.setAttribute('aria-describedby', describedBy ? `${describedBy} ${el.id}` : el.id);
    }
    return el;
  }

  function counter(input, max) {
    const el = h('p', { class: 'counter', id: uid('count') });
    const update = () => {
      const n = charCount(input.value);
      el.textContent = t('form.counter', { n, max });
      el.classList.toggle('over', n > max);
    };
    input.addEventListener('input', update);
    update();
    const describedBy = input.getAttribute('aria-describedby');
    input.setAttribute('aria-describedby', describedBy ? `${describedBy} ${el.id}` : el.id);
    return el;
  }

  function hint(text, extra = {}) {
    return h('p', { class: 'hint', id: uid('hint'), ...extra }, text);
  }

  function textField({ key, label, value, max, hintText, multiline, rows, stepName, extra = {} }) {
    const inputId = `f-${key.replace(/[^a-z0-9]+/gi, '-')}`;
    const hintEl = hintText ? hint(hintText) : null;
    const input = multiline
      ? h('textarea', { id: inputId, name: key, rows: rows || 4, 'aria-describedby': hintEl?.id, ...extra })
      : h('input', { id: inputId, name: key, type: 'text', autocomplete: 'off', 'aria-describedby': hintEl?.id, ...extra });
    input.value = value || '';
    const wrap = h('div', { class: 'field' }, h('label', { for: inputId }, label), hintEl, input);
    if (max) wrap.append(counter(input, max));
    wrap.append(errorSlot(key, input, stepName));
    return { wrap, input };
  }

  // ---- step 1: name and colour -------------------------------------------------------------
  const name = textField({
    key: 'name', label: t('field.name'), value: current?.name, max: LIMITS.name,
    hintText: t('form.nameHint'), stepName: 'basics', extra: { required: true, spellcheck: 'false' },
  });
  const colorLegendId = uid('legend');
  const colorInputs = [null, ...COLORS].map((c) => h('input', {
    type: 'radio', name: 'color', value: c || '', id: `f-color-${c || 'none'}`,
    checked: (current?.color || null) === c,
  }));
  const colorFieldset = h('fieldset', { class: 'field colors', 'aria-labelledby': colorLegendId },
    h('legend', { id: colorLegendId }, t('field.color')),
    hint(t('form.colorHint')),
    h('div', { class: 'color-options' }, colorInputs.map((input, i) => {
      const c = i === 0 ? null : COLORS[i - 1];
      return h('label', { class: 'color-option', for: input.id }, input, colorChip(h, c));
    })));
  colorFieldset.append(errorSlot('color', colorInputs[0], 'basics'));

  // ---- step 2: delay -----------------------------------------------------------------------
  const manualMinutes = current?.delay?.mode === 'manual' ? current.delay.minutes : 240;
  const delayAi = h('input', { type: 'radio', name: 'delay-mode', value: 'ai', id: 'f-delay-ai', checked: current?.delay?.mode === 'ai' });
  const delayManual = h('input', { type: 'radio', name: 'delay-mode', value: 'manual', id: 'f-delay-manual', checked: current?.delay?.mode !== 'ai' });
  const hoursInput = h('input', { type: 'number', id: 'f-delay-hours', name: 'hours', min: 0, max: 720, step: 1, inputmode: 'numeric', value: String(Math.floor(manualMinutes / 60)) });
  const minutesInput = h('input', { type: 'number', id: 'f-delay-minutes', name: 'minutes', min: 0, max: 59, step: 1, inputmode: 'numeric', value: String(manualMinutes % 60) });
  const manualGroupLabel = uid('label');
  const manualFields = h('div', { class: 'delay-fields', role: 'group', 'aria-labelledby': manualGroupLabel },
    h('span', { id: manualGroupLabel, class: 'sr-only' }, t('delay.manual')),
    h('div', { class: 'field inline small' }, h('label', { for: hoursInput.id }, t('delay.hours')), hoursInput),
    h('div', { class: 'field inline small' }, h('label', { for: minutesInput.id }, t('delay.minutes')), minutesInput));
  const delayLegend = uid('legend');
  const platformTable = h('div', { class: 'platforms', id: 'delay-platforms', 'aria-live': 'polite' });
  const delayFieldset = h('fieldset', { class: 'field', 'aria-labelledby': delayLegend },
    h('legend', { id: delayLegend }, t('field.delay')),
    h('p', { class: 'tip', id: 'delay-tip' }, t('delay.bestPractice')),
    h('div', { class: 'choice' }, delayManual, h('label', { for: delayManual.id }, t('delay.manual'))),
    manualFields,
    h('div', { class: 'choice' }, delayAi,
      h('label', { for: delayAi.id }, t('delay.ai'), h('span', { class: 'hint block' }, t('delay.aiHint')))));
  delayFieldset.append(errorSlot('delay', hoursInput, 'delay'));

  // ---- step 3: when it applies -------------------------------------------------------------
  const description = textField({
    key: 'description', label: t('field.description'), value: current?.description,
    max: LIMITS.description, hintText: t('form.descriptionHint'), multiline: true, rows: 4,
    stepName: 'when', extra: { required: true },
  });
  const stopTrigger = textField({
    key: 'stop_trigger', label: t('field.stopTrigger'), value: current?.stop_trigger,
    max: LIMITS.stop_trigger, hintText: t('form.stopHint'), multiline: true, rows: 3,
    stepName: 'when', extra: { required: true },
  });
  const examples = (title, items, target) => h('div', { class: 'examples' },
    h('p', { class: 'examples-title' }, title),
    h('ul', {}, items.map((text) => h('li', {},
      h('q', {}, text), ' ',
      h('button', {
        type: 'button', class: 'link small',
        onclick: () => { target.value = text; target.dispatchEvent(new Event('input')); target.focus(); },
      }, t('form.useExample'), h('span', { class: 'sr-only' }, `: ${text}`))))));
  description.wrap.insertBefore(
    examples(t('form.descriptionExamples'), t('form.descriptionExampleList'), description.input),
    description.input);
  description.wrap.insertBefore(h('p', { class: 'hint bad' }, t('form.descriptionBad')), description.input);
  stopTrigger.wrap.insertBefore(
    examples(t('form.stopExamples'), t('form.stopExampleList'), stopTrigger.input),
    stopTrigger.input);

  // ---- step 4: message ---------------------------------------------------------------------
  const messageAi = h('input', { type: 'radio', name: 'message-mode', value: 'ai', id: 'f-message-ai', checked: current?.message?.mode !== 'custom' });
  const messageCustom = h('input', { type: 'radio', name: 'message-mode', value: 'custom', id: 'f-message-custom', checked: current?.message?.mode === 'custom' });
  const customText = textField({
    key: 'message.text', label: t('message.customText'),
    value: current?.message?.mode === 'custom' ? current.message.text : '',
    max: LIMITS.text, hintText: t('form.customHint'), multiline: true, rows: 4, stepName: 'message',
  });
  const messageLegend = uid('legend');
  const messageFieldset = h('fieldset', { class: 'field', 'aria-labelledby': messageLegend },
    h('legend', { id: messageLegend }, t('field.message')),
    hint(t('form.windowHint')),
    h('div', { class: 'choice' }, messageAi,
      h('label', { for: messageAi.id }, t('message.ai'), h('span', { class: 'hint block' }, t('form.aiMessageHint')))),
    h('div', { class: 'choice' }, messageCustom,
      h('label', { for: messageCustom.id }, t('message.custom'), h('span', { class: 'hint block' }, t('form.customMessageHint')))));
  messageFieldset.append(errorSlot('message', messageAi, 'message'));

  // ---- step 5: WhatsApp template -----------------------------------------------------------
  // Picked from the chatbot's template catalogue (approved ones only); the parameters are one
  // row per placeholder of the picked template's text.
  const template = current?.whatsapp_template;
  let catalogue = catalogueAnswer?.items || [];
  let accounts = catalogueAnswer?.accounts || [];
  let selected = template ? { name: template.name, language: template.language } : null;
  const useTemplate = h('input', { type: 'checkbox', id: 'f-use-template', name: 'use-template', checked: Boolean(template) });
  const params = (template?.parameters || []).map((p) => ({ type: p.type, text: p.text || '' }));

  const refreshButton = h('button', { type: 'button', class: 'button secondary small', id: 'refresh-templates' }, t('template.refresh'));
  const createButton = h('button', { type: 'button', class: 'button secondary small', id: 'create-template', 'aria-haspopup': 'dialog' }, t('template.create'));
  const refreshedLine = h('p', { class: 'hint', id: 'templates-refreshed' });
  const pickerAlert = h('div', { class: 'alert', role: 'alert', id: 'template-alert', hidden: true });
  const pickerNotice = h('p', { class: 'picker-notice', role: 'status', id: 'template-notice' });
  const currentWarning = h('p', { class: 'hint warn', id: 'template-current-warning', hidden: true });
  const searchInput = h('input', { type: 'search', id: 'f-template-search', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
  const searchWrap = h('div', { class: 'field inline grow template-search', hidden: true },
    h('label', { for: searchInput.id }, t('template.search')), searchInput);
  const optionList = h('ul', { class: 'template-options', id: 'template-options' });
  const pickerLegend = uid('legend');
  const pickerHint = hint(t('template.pickHint'));
  const pickerError = h('p', { class: 'field-error', id: 'template-picker-error', hidden: true });
  const pickerFieldset = h('fieldset', {
    class: 'field template-picker', id: 'template-picker', 'aria-labelledby': pickerLegend,
    'aria-describedby': `${pickerHint.id} ${pickerError.id}`,
  },
  h('legend', { id: pickerLegend }, t('template.pick')),
  pickerHint,
  h('div', { class: 'picker-tools' }, refreshButton, createButton),
  refreshedLine, pickerAlert, pickerNotice, currentWarning, searchWrap, optionList, pickerError);
  // The picker's errors (name and language are picked together) show below the list; focus
  // goes to the picked option, or the first one that can be picked.
  const pickerSlot = {
    error: pickerError, step: 'template', label: t('template.pick'),
    get input() {
      return optionList.querySelector('input:checked') || optionList.querySelector('input:not([disabled])') || refreshButton;
    },
    clear() {
      for (const el of optionList.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      refreshButton.removeAttribute('aria-invalid');
    },
  };
  slots.set('whatsapp_template.name', pickerSlot);
  slots.set('whatsapp_template.language', pickerSlot);

  const paramList = h('ol', { class: 'params', id: 'template-parameters' });
  const paramsCount = h('p', { class: 'hint', id: 'template-parameter-count' });
  const previewBox = h('div', { class: 'template-preview', id: 'template-preview' });
  const paramsLegend = uid('legend');
  const paramsFieldset = h('fieldset', {
    class: 'field', 'aria-labelledby': paramsLegend, id: 'template-parameters-field',
    'aria-describedby': 'template-parameter-count template-parameters-error',
  },
    h('legend', { id: paramsLegend }, t('template.parameters')),
    hint(t('template.parametersHint')), paramsCount, paramList, previewBox);
  const paramsSlot = {
    error: h('p', { class: 'field-error', id: 'template-parameters-error', hidden: true }), step: 'template', label: t('template.parameters'),
    get input() { return paramList.querySelector('select') || pickerSlot.input; },
  };
  paramsFieldset.append(paramsSlot.error);
  slots.set('whatsapp_template.parameters', paramsSlot);

  const templateFields = h('div', { class: 'template-fields', id: 'template-fields' }, pickerFieldset, paramsFieldset);
  const templateBox = h('div', { class: 'field' },
    h('div', { class: 'choice' }, useTemplate, h('label', { for: useTemplate.id }, t('template.use'))),
    hint(t('template.useHint')));
  templateBox.append(errorSlot('whatsapp_template', useTemplate, 'template'));

  const sameTemplate = (a, b) => Boolean(a && b && a.name === b.name && a.language === b.language);
  /** The catalogue entry of a name and language: a usable one if several accounts have it. */
  const entryOf = (wanted) => {
    const matching = catalogue.filter((e) => sameTemplate(e, wanted));
    return matching.find((e) => e.usable) || matching[0] || null;
  };
  const selectedEntry = () => (selected ? entryOf(selected) : null);
  const optionId = (e) => `tpl-${e.name}-${e.language}`.replace(/[^A-Za-z0-9_-]/g, '-');

  /** Usable templates first, then the others; one per name and language. */
  function pickerEntries() {
    const seen = new Set();
    const entries = [];
    for (const e of [...catalogue].sort((a, b) => Number(b.usable) - Number(a.usable)
      || a.name.localeCompare(b.name) || a.language.localeCompare(b.language))) {
      const key = `${e.name}\u0000${e.language}`;
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push(e);
    }
    if (selected && !entryOf(selected)) entries.unshift({ ...selected, missing: true, usable: false });
    return entries;
  }

  function renderRefreshed() {
    if (!accounts.length) {
      clear(refreshedLine);
      return;
    }
    const times = accounts.map((a) => a.last_refreshed_at).filter(Boolean).sort();
    clear(refreshedLine, times.length
      ? [t('template.lastRefreshed'), ' ', timeEl(h, times[0])]
      : t('template.neverRefreshed'));
  }

  function renderOptions() {
    const entries = pickerEntries();
    searchWrap.hidden = entries.length <= 6;
    const query = searchWrap.hidden ? '' : searchInput.value.trim().toLowerCase();
    const shown = entries.filter((e) => !query || sameTemplate(e, selected)
      || e.name.toLowerCase().includes(query) || (e.body_text || '').toLowerCase().includes(query));
    clear(optionList, shown.map((e) => {
      const id = optionId(e);
      const statusId = uid('tpl-status');
      const bodyId = uid('tpl-body');
      const radio = h('input', {
        type: 'radio', name: 'template-choice', id, value: `${e.name}:${e.language}`,
        checked: sameTemplate(e, selected), disabled: !e.usable,
        'aria-describedby': `${statusId} ${bodyId}`,
      });
      radio.addEventListener('change', () => { if (radio.checked) pick(e); });
      const placeholders = e.missing ? null : e.body_parameter_count;
      return h('li', {
        class: e.usable ? 'template-option' : 'template-option unusable',
        'data-name': e.name, 'data-language': e.language, 'data-status': e.missing ? 'MISSING' : e.status,
      },
      radio,
      h('div', { class: 'template-option-body' },
        h('label', { for: id },
          templateName(h, e.name), ' ', h('span', { class: 'template-lang' }, `(${e.language})`),
          e.missing ? null : h('span', { class: 'template-category' }, categoryName(e.category))),
        h('span', { class: e.usable ? 'template-meta' : 'template-meta template-status', id: statusId },
          e.usable
            ? [billingText(e.billing), ' · ', t('template.placeholderCount', { n: placeholders })]
            : templateStatusText(e)),
        h('span', { class: 'template-body', id: bodyId },
          e.body_text ? bodyPreview(h, e.body_text) : (e.missing ? '' : t('template.noBody')))));
    }));
    if (!catalogue.length && !selected) {
      optionList.append(h('li', { class: 'template-empty', id: 'template-empty' },
        accounts.length ? t('template.empty') : t('template.noAccount')));
    } else if (!shown.length) {
      optionList.append(h('li', { class: 'template-empty' }, t('template.noMatch', { query: searchInput.value.trim() })));
    }
    renderCurrentWarning();
  }

  /** The template kept from before that cannot be sent now (Meta paused it, …). */
  function renderCurrentWarning() {
    const entry = selectedEntry();
    const problem = selected && (!entry || !entry.usable);
    currentWarning.hidden = !problem;
    if (problem) {
      currentWarning.textContent = entry
        ? t('template.currentNotUsable', { name: selected.name, language: selected.language, status: templateStatusText(entry) })
        : t('template.currentMissing', { name: selected.name, language: selected.language });
    }
  }

  /** Picks a template: name and language, and one parameter row per placeholder. */
  function pick(entry) {
    selected = { name: entry.name, language: entry.language };
    fitParams(entry.body_parameter_count);
    clearErrors('template');
    renderParams();
    renderCurrentWarning();
  }

  function fitParams(count) {
    while (params.length > count) params.pop();
    while (params.length < count) params.push({ type: 'text', text: '' });
  }

  function setCatalogue(answer) {
    catalogue = answer.items || [];
    accounts = answer.accounts || [];
    renderRefreshed();
    renderOptions();
    renderParams();
  }

  function renderParams() {
    clear(paramList);
    for (const key of [...slots.keys()]) if (key.startsWith('whatsapp_template.parameters[')) slots.delete(key);
    paramsFieldset.hidden = !selected;
    const entry = selectedEntry();
    if (!selected) return;
    paramsCount.textContent = params.length
      ? t('template.parametersCount', { n: params.length })
      : t('template.noParametersNeeded');
    params.forEach((param, i) => {
      const placeholder = `{{${i + 1}}}`;
      const typeId = `f-param-${i}-type`;
      const textId = `f-param-${i}-text`;
      const typeSelect = h('select', { id: typeId },
        h('option', { value: 'text' }, t('template.paramText')),
        h('option', { value: 'profile_name' }, t('template.paramProfile')));
      typeSelect.value = param.type;
      const textInput = h('input', { id: textId, type: 'text', value: param.text, autocomplete: 'off' });
      const textWrap = h('div', { class: 'field inline grow', hidden: param.type !== 'text' },
        h('label', { for: textId }, t('template.paramValue', { placeholder })), textInput);
      typeSelect.addEventListener('change', () => {
        param.type = typeSelect.value;
        textWrap.hidden = param.type !== 'text';
        renderPreview();
      });
      textInput.addEventListener('input', () => { param.text = textInput.value; renderPreview(); });
      const slot = errorSlot(`whatsapp_template.parameters[${i}]`, textInput, 'template');
      paramList.append(h('li', { class: 'param', role: 'group', 'aria-label': t('template.parameter', { placeholder }) },
        h('span', { class: 'placeholder', 'aria-hidden': 'true' }, placeholder),
        h('div', { class: 'field inline' }, h('label', { for: typeId }, t('template.paramType', { placeholder })), typeSelect),
        textWrap,
        slot));
    });
    renderPreview(entry);
  }

  /** The template's text with the parameters as they are filled in. */
  function renderPreview(entry = selectedEntry()) {
    if (!entry?.body_text) {
      clear(previewBox);
      return;
    }
    const values = {};
    params.forEach((p, i) => {
      values[i + 1] = p.type === 'profile_name' ? t('template.previewProfile') : p.text.trim();
    });
    clear(previewBox, h('p', { class: 'examples-title' }, t('template.preview')),
      h('p', { class: 'prewrap' }, bodyPreview(h, entry.body_text, values)));
  }

  function showPickerAlert(text) {
    pickerAlert.textContent = text;
    pickerAlert.hidden = !text;
  }

  /** A refused refresh or create (409: no business account, token rejected, …) in words. */
  function templateProblem(error) {
    if (error instanceof ApiError && error.type) {
      const known = t(`templatesError.${error.type}`, {}, null);
      if (known) return known;
    }
    return app.describeError(error);
  }

  refreshButton.addEventListener('click', async () => {
    refreshButton.disabled = true;
    refreshButton.setAttribute('aria-busy', 'true');
    showPickerAlert('');
    pickerNotice.textContent = t('template.refreshing');
    try {
      const answer = await api.refreshTemplates();
      if (!app.isCurrent(root)) return;
      setCatalogue(answer);
      pickerNotice.textContent = t('template.refreshed', { n: answer.items.length });
    } catch (error) {
      pickerNotice.textContent = '';
      showPickerAlert(templateProblem(error));
    } finally {
      refreshButton.disabled = false;
      refreshButton.removeAttribute('aria-busy');
    }
  });
  searchInput.addEventListener('input', renderOptions);
  // Enter in the search box must not move the form to the next step.
  searchInput.addEventListener('keydown', (event) => { if (event.key === 'Enter') event.preventDefault(); });

  // An unchanged template keeps its parameters; a usable one is fitted to its placeholders.
  if (selected && selectedEntry()?.usable) fitParams(selectedEntry().body_parameter_count);
  if (catalogueFailed) showPickerAlert(templateProblem(catalogueFailed));
  renderRefreshed();
  renderOptions();
  renderParams();

  // ---- creating a template (a dialog reachable from the picker) ----------------------------
  const creator = templateCreator({
    accounts: () => accounts,
    languages: () => catalogue.map((e) => e.language),
    problem: templateProblem,
    onCreated(entry) {
      catalogue = [...catalogue.filter((e) => !(sameTemplate(e, entry) && e.waba_id === entry.waba_id)), entry];
      renderOptions();
      showPickerAlert('');
      pickerNotice.textContent = t('template.submitted', { name: entry.name, language: entry.language });
      createButton.focus();
    },
    onClose() { createButton.focus(); },
  });
  createButton.addEventListener('click', () => creator.open());

  // ---- step 6: review (built when shown) ---------------------------------------------------
  const reviewBody = h('div', { id: 'review' });
  const activeCount = list.active_count;
  const atLimit = !editing && activeCount >= ACTIVE_LIMIT;
  const activeInput = h('input', { type: 'checkbox', id: 'f-active', name: 'active', checked: !atLimit });
  const activeHint = hint(atLimit
    ? t('form.activeAtLimit', { count: activeCount, max: ACTIVE_LIMIT })
    : t('form.activeHint', { count: activeCount, max: ACTIVE_LIMIT }), { class: atLimit ? 'hint warn' : 'hint', id: 'active-hint' });
  const activeBox = editing ? null : h('div', { class: 'field' },
    h('div', { class: 'choice' }, activeInput, h('label', { for: activeInput.id }, t('form.activeAfterSave'))),
    activeHint);
  if (activeBox) {
    activeInput.setAttribute('aria-describedby', activeHint.id);
    activeBox.append(errorSlot('active', activeInput, 'review'));
  }

  // ---- live updates ------------------------------------------------------------------------
  function syncVisibility() {
    manualFields.hidden = !delayManual.checked;
    customText.wrap.hidden = !messageCustom.checked;
    templateFields.hidden = !useTemplate.checked;
    renderPlatforms();
  }
  for (const el of [delayAi, delayManual, messageAi, messageCustom, useTemplate]) el.addEventListener('change', syncVisibility);
  for (const el of [hoursInput, minutesInput]) el.addEventListener('input', renderPlatforms);

  function manualTotal() {
    const hours = hoursInput.value === '' ? 0 : Number(hoursInput.value);
    const minutes = minutesInput.value === '' ? 0 : Number(minutesInput.value);
    return hours * 60 + minutes;
  }

  /** The per-platform 24 h limits, and what they make of the delay entered. */
  function renderPlatforms() {
    const ai = delayAi.checked;
    const total = manualTotal();
    const valid = Number.isInteger(total) && total >= 1;
    const past = !ai && valid && total > windowLimit;
    const withTemplate = useTemplate.checked;
    const rows = PLATFORMS.map((p) => {
      const limit = p === 'whatsapp' ? t('platform.whatsappLimit') : t('platform.metaLimit');
      let effect;
      if (ai) effect = t('platform.aiInside');
      else if (!valid) effect = '–';
      else if (!past) effect = t('platform.sendsAfter', { delay: duration(total) });
      else if (p === 'whatsapp' && withTemplate) effect = t('platform.templateAfter', { delay: duration(total) });
      else effect = t('platform.clamped', { delay: duration(windowLimit) });
      return h('tr', { class: past && !(p === 'whatsapp' && withTemplate) ? 'clamped' : '' },
        h('th', { scope: 'row' }, platformName(p)),
        h('td', { 'data-label': t('platform.limit') }, limit),
        h('td', { 'data-label': t('platform.thisDelay') }, effect));
    });
    clear(platformTable, 
      h('table', { class: 'compact stack' },
        h('caption', {}, t('platform.caption')),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('platform.platform')),
          h('th', { scope: 'col' }, t('platform.limit')),
          h('th', { scope: 'col' }, t('platform.thisDelay')))),
        h('tbody', {}, rows)),
      past && !withTemplate ? h('p', { class: 'hint warn' }, t('platform.addTemplateHint')) : null);
  }

  // ---- the steps ---------------------------------------------------------------------------
  const stepContent = {
    basics: [name.wrap, colorFieldset],
    delay: [delayFieldset, platformTable],
    when: [description.wrap, stopTrigger.wrap],
    message: [messageFieldset, customText.wrap],
    template: [templateBox, templateFields],
    review: [reviewBody, activeBox],
  };
  const stepHeadings = new Map();
  for (const [index, key] of STEPS.entries()) {
    const heading = h('h2', { class: 'step-title', tabindex: '-1', id: `step-${key}-title` },
      h('span', { class: 'step-number' }, t('form.stepOf', { n: index + 1, total: STEPS.length })), ' ',
      t(`step.${key}`));
    stepHeadings.set(key, heading);
    stepSections.set(key, h('section', { class: 'step', 'data-step': key, 'aria-labelledby': heading.id, hidden: true },
      heading, stepContent[key]));
  }

  const nav = h('nav', { class: 'steps-nav', 'aria-label': t('form.stepsLabel') },
    h('ol', { class: 'steps' }, STEPS.map((key, index) => {
      const button = h('button', { type: 'button', 'data-step': key, onclick: () => goTo(key, true) },
        h('span', { class: 'step-index', 'aria-hidden': 'true' }, String(index + 1)),
        h('span', { class: 'step-name' }, t(`step.${key}`)),
        h('span', { class: 'sr-only step-error-note' }));
      stepButtons.set(key, button);
      return h('li', {}, button);
    })));

  const summary = h('div', { class: 'error-summary', id: 'error-summary', tabindex: '-1', hidden: true, role: 'alert' });
  const backButton = h('button', { type: 'button', class: 'button secondary', id: 'form-back' }, t('form.back'));
  const nextButton = h('button', { type: 'submit', class: 'button primary', id: 'form-next' }, t('form.next'));
  const cancelLink = h('a', { class: 'button link', href: editing ? `#/f/${encodeURIComponent(id)}` : '#/' }, t('form.cancel'));
  const form = h('form', { class: 'stepper', novalidate: true, id: 'follow-up-form', 'aria-labelledby': 'page-title' },
    summary,
    [...stepSections.values()],
    h('div', { class: 'form-actions' }, cancelLink, h('span', { class: 'spacer' }), backButton, nextButton));

  root.append(
    h('div', { class: 'page-head' },
      h('h1', { id: 'page-title', tabindex: '-1' }, editing ? t('form.editTitle', { name: current.name }) : t('form.createTitle'))),
    nav,
    form,
    creator.dialog);

  backButton.addEventListener('click', () => {
    const index = STEPS.indexOf(step);
    if (index > 0) goTo(STEPS[index - 1], true);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (step === 'review') save();
    else if (checkStep(step)) goTo(STEPS[STEPS.indexOf(step) + 1], true);
  });

  function goTo(key, moveFocus) {
    step = key;
    if (key === 'review') renderReview();
    for (const [k, section] of stepSections) section.hidden = k !== key;
    for (const [k, button] of stepButtons) {
      if (k === key) button.setAttribute('aria-current', 'step');
      else button.removeAttribute('aria-current');
    }
    const index = STEPS.indexOf(key);
    backButton.hidden = index === 0;
    nextButton.textContent = key === 'review'
      ? (editing ? t('form.saveChanges') : t('form.createButton'))
      : t('form.next');
    nextButton.id = key === 'review' ? 'form-save' : 'form-next';
    if (moveFocus) focus(stepHeadings.get(key));
  }

  // ---- checks and errors -------------------------------------------------------------------
  function setError(key, message) {
    const slot = slotFor(key);
    if (!slot) return null;
    slot.error.textContent = message;
    slot.error.hidden = false;
    slot.input?.setAttribute('aria-invalid', 'true');
    return slot;
  }

  function slotFor(field) {
    if (slots.has(field)) return slots.get(field);
    const param = /^whatsapp_template\.parameters\[(\d+)\]/.exec(field);
    if (param && slots.has(`whatsapp_template.parameters[${param[1]}]`)) {
      return slots.get(`whatsapp_template.parameters[${param[1]}]`);
    }
    let key = field;
    while (key.includes('.') || key.includes('[')) {
      key = key.replace(/(\.[^.[]*|\[\d+\])$/, '');
      if (slots.has(key)) return slots.get(key);
    }
    return null;
  }

  function clearErrors(onlyStep) {
    for (const slot of slots.values()) {
      if (onlyStep && slot.step !== onlyStep) continue;
      slot.error.hidden = true;
      slot.error.textContent = '';
      slot.input?.removeAttribute('aria-invalid');
      slot.clear?.();
    }
    if (!onlyStep) {
      summary.hidden = true;
      clear(summary);
    }
    markSteps();
  }

  function markSteps() {
    for (const [key, button] of stepButtons) {
      const has = [...slots.values()].some((s) => s.step === key && !s.error.hidden);
      button.classList.toggle('has-error', has);
      button.querySelector('.step-error-note').textContent = has ? ` (${t('form.stepHasErrors')})` : '';
    }
  }

  /** Client-side checks for blanks and lengths; the API checks everything else (422). */
  function problems(key) {
    const found = [];
    const need = (cond, field, message) => { if (cond) found.push({ field, message }); };
    if (key === 'basics') {
      need(!name.input.value.trim(), 'name', t('check.required', { field: t('field.name') }));
      need(charCount(name.input.value.trim()) > LIMITS.name, 'name', t('check.tooLong', { max: LIMITS.name }));
    } else if (key === 'delay' && delayManual.checked) {
      const total = manualTotal();
      need(!Number.isInteger(total) || total < 1, 'delay', t('check.delayMin'));
      need(total > MAX_DELAY_MINUTES, 'delay', t('check.delayMax'));
    } else if (key === 'when') {
      need(!description.input.value.trim(), 'description', t('check.required', { field: t('field.description') }));
      need(charCount(description.input.value.trim()) > LIMITS.description, 'description', t('check.tooLong', { max: LIMITS.description }));
      need(!stopTrigger.input.value.trim(), 'stop_trigger', t('check.required', { field: t('field.stopTrigger') }));
      need(charCount(stopTrigger.input.value.trim()) > LIMITS.stop_trigger, 'stop_trigger', t('check.tooLong', { max: LIMITS.stop_trigger }));
    } else if (key === 'message' && messageCustom.checked) {
      need(!customText.input.value.trim(), 'message.text', t('check.required', { field: t('message.customText') }));
      need(charCount(customText.input.value.trim()) > LIMITS.text, 'message.text', t('check.tooLong', { max: LIMITS.text }));
    } else if (key === 'template' && useTemplate.checked) {
      need(!selected, 'whatsapp_template.name', t('check.pickTemplate'));
      params.forEach((p, i) => need(p.type === 'text' && !p.text.trim(), `whatsapp_template.parameters[${i}].text`,
        t('check.required', { field: t('template.paramValue', { placeholder: `{{${i + 1}}}` }) })));
    }
    return found;
  }

  function checkStep(key) {
    clearErrors(key);
    const found = problems(key);
    for (const p of found) setError(p.field, p.message);
    markSteps();
    if (found.length) {
      slotFor(found[0].field)?.input?.focus();
      return false;
    }
    return true;
  }

  function showSummary(title, errors) {
    clear(summary, h('h2', {}, title));
    if (errors.length) {
      summary.append(h('ul', {}, errors.map((e) => h('li', {},
        h('button', {
          type: 'button', class: 'link',
          onclick: () => {
            const slot = slotFor(e.field);
            goTo(slot?.step || stepOfField(e.field), false);
            (slot?.input || stepHeadings.get(step)).focus();
          },
        }, e.label ? `${e.label}: ${e.message}` : e.message)))));
    }
    summary.hidden = false;
  }

  function fieldLabel(field) {
    const step = stepOfField(field);
    const slot = slotFor(field);
    const input = slot?.input;
    const label = slot?.label || input?.labels?.[0]?.textContent
      || (field.startsWith('color') ? t('field.color') : '')
      || (field.startsWith('delay') ? t('field.delay') : '')
      || (field.startsWith('message') ? t('field.message') : '');
    return label || t(`step.${step}`);
  }

  // The API's messages are English; in other languages the rule's translation is used.
  const apiMessage = ruleMessage;

  // ---- review ------------------------------------------------------------------------------
  function collect() {
    const body = {
      name: name.input.value.trim(),
      color: colorInputs.find((i) => i.checked)?.value || null,
      delay: delayAi.checked ? { mode: 'ai' } : { mode: 'manual', minutes: manualTotal() },
      description: description.input.value.trim(),
      stop_trigger: stopTrigger.input.value.trim(),
      message: messageCustom.checked ? { mode: 'custom', text: customText.input.value.trim() } : { mode: 'ai' },
      whatsapp_template: useTemplate.checked ? {
        name: selected?.name || '',
        language: selected?.language || '',
        parameters: params.map((p) => (p.type === 'text' ? { type: 'text', text: p.text.trim() } : { type: 'profile_name' })),
      } : null,
    };
    if (!editing) body.active = activeInput.checked;
    return body;
  }

  function checklist(body) {
    const items = [];
    const add = (state, label, detail, target) => items.push({ state, label, detail, target });
    const nameLength = charCount(body.name);
    add(!body.name ? 'missing' : nameLength < 5 ? 'check' : 'ok', t('review.clearName'),
      !body.name ? t('review.nameMissing') : nameLength < 5 ? t('review.nameShort') : t('review.nameOk', { name: body.name }), 'basics');

    const manual = body.delay.mode === 'manual';
    const minutes = body.delay.minutes;
    const past = manual && minutes > windowLimit;
    if (manual && (!Number.isInteger(minutes) || minutes < 1)) add('missing', t('review.delayFits'), t('check.delayMin'), 'delay');
    else if (!manual) add('ok', t('review.delayFits'), t('review.delayAi'), 'delay');
    else if (!past) add('ok', t('review.delayFits'), t('review.delayInside', { delay: duration(minutes) }), 'delay');
    else add('check', t('review.delayFits'), body.whatsapp_template
      ? t('review.delayPastWithTemplate', { delay: duration(minutes) })
      : t('review.delayPastNoTemplate', { delay: duration(minutes) }), 'delay');

    const descLength = charCount(body.description);
    add(!body.description ? 'missing' : descLength < 30 ? 'check' : 'ok', t('review.descriptionSaysWhen'),
      !body.description ? t('review.descriptionMissing') : descLength < 30 ? t('review.descriptionShort') : t('review.descriptionOk'), 'when');
    add(body.stop_trigger ? 'ok' : 'missing', t('review.stopDefined'),
      body.stop_trigger ? t('review.stopOk') : t('review.stopMissing'), 'when');
    if (body.message.mode === 'ai') add('ok', t('review.messageSet'), t('review.messageAi'), 'message');
    else add(body.message.text ? 'ok' : 'missing', t('review.messageSet'),
      body.message.text ? t('review.messageCustom') : t('review.messageMissing'), 'message');

    const tpl = body.whatsapp_template;
    const entry = tpl ? selectedEntry() : null;
    if (tpl && (!tpl.name || !tpl.language)) add('missing', t('review.templateIfNeeded'), t('review.templateIncomplete'), 'template');
    else if (tpl && !entry?.usable) add('check', t('review.templateIfNeeded'), t('review.templateNotUsable', { name: tpl.name, language: tpl.language }), 'template');
    else if (tpl) add('ok', t('review.templateIfNeeded'), t('review.templateSet', { name: tpl.name, language: tpl.language }), 'template');
    else if (past) add('check', t('review.templateIfNeeded'), t('review.templateNeeded'), 'template');
    else add('ok', t('review.templateIfNeeded'), t('review.templateNotNeeded'), 'template');
    return items;
  }

  function renderReview() {
    const body = collect();
    const tpl = body.whatsapp_template;
    const row = (label, value, target) => h('div', { class: 'review-row' },
      h('dt', {}, label),
      h('dd', {}, value, ' ', h('button', {
        type: 'button', class: 'link small', onclick: () => goTo(target, true),
      }, t('form.change'), h('span', { class: 'sr-only' }, ` ${label}`))));
    const items = checklist(body);
    clear(reviewBody, 
      h('h3', {}, t('review.checklist')),
      h('ul', { class: 'checklist', id: 'checklist' }, items.map((item) => h('li', { class: `check-${item.state}`, 'data-state': item.state },
        h('span', { class: 'check-icon', 'aria-hidden': 'true' }, item.state === 'ok' ? '✓' : item.state === 'check' ? '!' : '✗'),
        h('span', { class: 'sr-only' }, `${t(`review.state.${item.state}`)}: `),
        h('span', {}, h('strong', {}, item.label), h('span', { class: 'check-detail' }, item.detail)),
        item.state === 'ok' ? null : h('button', { type: 'button', class: 'link small', onclick: () => goTo(item.target, true) },
          t('form.change'), h('span', { class: 'sr-only' }, ` ${item.label}`))))),
      h('h3', {}, t('review.summary')),
      h('dl', { class: 'review' },
        row(t('field.name'), body.name || '–', 'basics'),
        row(t('field.color'), colorChip(h, body.color), 'basics'),
        row(t('field.delay'), delayText(body.delay), 'delay'),
        row(t('field.description'), body.description || '–', 'when'),
        row(t('field.stopTrigger'), body.stop_trigger || '–', 'when'),
        row(t('field.message'), body.message.mode === 'custom'
          ? h('span', {}, t('message.custom'), h('q', { class: 'block' }, body.message.text || '–'))
          : t('message.ai'), 'message'),
        row(t('field.template'), tpl
          ? h('span', {}, h('code', {}, tpl.name || '–'), ` (${tpl.language || '–'})`,
            tpl.parameters.length ? h('span', { class: 'block' }, tpl.parameters.map((p, i) =>
              `{{${i + 1}}} = ${p.type === 'text' ? p.text : t('template.paramProfile')}`).join(', ')) : null)
          : t('template.none'), 'template'),
        row(t('cost.label'), h('span', { id: 'review-cost' }, costText(tpl
          ? { billed_sends: 'whatsapp_template_sends', template_category: selectedEntry()?.category || null }
          : { billed_sends: 'none' })), 'template')));
  }

  async function save() {
    clearErrors();
    const allProblems = STEPS.flatMap((key) => problems(key));
    if (allProblems.length) {
      for (const p of allProblems) setError(p.field, p.message);
      markSteps();
      showSummary(t('form.problemsTitle', { n: allProblems.length }),
        allProblems.map((p) => ({ ...p, label: fieldLabel(p.field) })));
      focus(summary);
      return;
    }
    const body = collect();
    nextButton.disabled = true;
    nextButton.setAttribute('aria-busy', 'true');
    try {
      const saved = editing
        ? await api.replaceFollowUp(id, body, current.revision)
        : await api.createFollowUp(body);
      app.flash(t(editing ? 'notice.saved' : 'notice.created', { name: saved.name }),
        (saved.warnings || []).map((w) => warningText(w, saved)));
      app.go(`#/f/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      nextButton.disabled = false;
      nextButton.removeAttribute('aria-busy');
      if (error instanceof ApiError && error.status === 422 && error.fieldErrors.length) {
        const errors = error.fieldErrors.map((e) => ({ field: e.field, message: apiMessage(e), label: fieldLabel(e.field) }));
        for (const e of errors) setError(e.field, e.message);
        markSteps();
        const first = errors.map((e) => slotFor(e.field)).find(Boolean);
        goTo(first?.step || 'review', false);
        showSummary(t('form.problemsTitle', { n: errors.length }), errors);
        focus(summary);
      } else if (error instanceof ApiError && error.type === 'active-limit-reached') {
        const message = t('error.activeLimitCreate', { max: ACTIVE_LIMIT });
        setError('active', message);
        markSteps();
        showSummary(message, []);
        focus(activeInput);
      } else if (error instanceof ApiError && (error.status === 412 || error.type === 'revision-conflict')) {
        showSummary(t('error.conflict'), []);
        focus(summary);
      } else {
        showSummary(app.describeError(error), []);
        focus(summary);
      }
    }
  }

  syncVisibility();
  goTo('basics', false);
}

/** An API field error's message: the API's (English) words, else the rule's translation. */
function ruleMessage(error) {
  if (currentLanguage() !== 'en') {
    const translated = t(`rule.${error.rule}`, {}, null);
    if (translated) return translated;
  }
  return error.message || t(`rule.${error.rule}`);
}

/** The value found most often (the first of equals), or undefined. */
function mostCommon(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) || 0) + 1);
  let best;
  for (const [v, n] of counts) if (best === undefined || n > counts.get(best)) best = v;
  return best;
}

const TEMPLATE_LANGUAGES = ['en_US', 'en_GB', 'de', 'es', 'es_MX', 'fr', 'it', 'pt_BR', 'nl', 'pl', 'tr'];
const TEMPLATE_LIMITS = { body: 1024, footer: 60, name: 512 };

/**
 * The "Create template" dialog: name, language, category, body text with one example per
 * placeholder (found as it is typed), optional footer. It submits to Meta's review through
 * the API; the API's 422 errors appear at their fields.
 */
function templateCreator({ accounts, languages, problem, onCreated, onClose }) {
  const slots = new Map(); // API field -> {error, input}
  const slot = (key, input) => {
    const error = h('p', { class: 'field-error', id: uid('err'), hidden: true });
    slots.set(key, { error, input });
    if (input) {
      const describedBy = input.getAttribute('aria-describedby');
      input.setAttribute('aria-describedby', describedBy ? `${describedBy} ${error.id}` : error.id);
    }
    return error;
  };
  const field = (id, label, input, hintText, extra = []) => {
    const hintEl = hintText ? h('p', { class: 'hint', id: uid('hint') }, hintText) : null;
    const describedBy = input.getAttribute('aria-describedby');
    if (hintEl) input.setAttribute('aria-describedby', describedBy ? `${hintEl.id} ${describedBy}` : hintEl.id);
    return h('div', { class: 'field' }, h('label', { for: id }, label), hintEl, input, extra);
  };
  const counter = (input, max) => {
    const el = h('p', { class: 'counter', id: uid('count') });
    const update = () => {
      const n = charCount(input.value);
      el.textContent = t('form.counter', { n, max });
      el.classList.toggle('over', n > max);
    };
    input.addEventListener('input', update);
    update();
    const describedBy = input.getAttribute('aria-describedby');
    input.setAttribute('aria-describedby', describedBy ? `${describedBy} ${el.id}` : el.id);
    return el;
  };

  const languageListId = uid('languages');
  const nameInput = h('input', { type: 'text', id: 't-new-name', name: 'template-name', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', required: true });
  const languageInput = h('input', { type: 'text', id: 't-new-language', name: 'template-language', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', list: languageListId, required: true });
  const languageList = h('datalist', { id: languageListId });
  const categoryUtility = h('input', { type: 'radio', name: 'template-category', value: 'UTILITY', id: 't-new-category-utility', checked: true });
  const categoryMarketing = h('input', { type: 'radio', name: 'template-category', value: 'MARKETING', id: 't-new-category-marketing' });
  const categoryLegend = uid('legend');
  const bodyInput = h('textarea', { id: 't-new-body', name: 'template-body', rows: 4, required: true });
  const insertButton = h('button', { type: 'button', class: 'button secondary small', id: 't-new-insert' });
  const exampleList = h('ol', { class: 'template-examples', id: 't-new-examples' });
  const examplesLegend = uid('legend');
  const noExamples = h('p', { class: 'muted', id: 't-new-no-examples' }, t('template.noExamples'));
  const footerInput = h('input', { type: 'text', id: 't-new-footer', name: 'template-footer', autocomplete: 'off' });
  const accountSelect = h('select', { id: 't-new-account', name: 'template-account' });
  const accountField = field(accountSelect.id, t('template.account'), accountSelect, null, [slot('waba_id', accountSelect)]);
  const summary = h('div', { class: 'error-summary', id: 't-new-errors', tabindex: '-1', hidden: true, role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary', id: 't-new-submit' }, t('template.submit'));
  const cancel = h('button', { type: 'button', class: 'button secondary', id: 't-new-cancel' }, t('form.cancel'));

  const examplesField = h('fieldset', { class: 'field', 'aria-labelledby': examplesLegend },
    h('legend', { id: examplesLegend }, t('template.examples')),
    h('p', { class: 'hint' }, t('template.examplesHint')),
    noExamples, exampleList);
  examplesField.append(slot('body.examples', bodyInput));

  const titleId = 't-new-title';
  const form = h('form', { novalidate: true, class: 'template-create', id: 'template-create-form' },
    summary,
    h('p', { class: 'hint', id: 't-new-intro' }, t('template.createIntro')),
    accountField,
    field(nameInput.id, t('template.newName'), nameInput, t('template.newNameHint'), [slot('name', nameInput)]),
    field(languageInput.id, t('template.newLanguage'), languageInput, t('template.languageHint'), [languageList, slot('language', languageInput)]),
    h('fieldset', { class: 'field', 'aria-labelledby': categoryLegend },
      h('legend', { id: categoryLegend }, t('template.newCategory')),
      h('div', { class: 'choice' }, categoryUtility,
        h('label', { for: categoryUtility.id }, t('templateCategory.UTILITY'), h('span', { class: 'hint block' }, t('template.categoryUtilityHint')))),
      h('div', { class: 'choice' }, categoryMarketing,
        h('label', { for: categoryMarketing.id }, t('templateCategory.MARKETING'), h('span', { class: 'hint block' }, t('template.categoryMarketingHint')))),
      slot('category', categoryUtility)),
    field(bodyInput.id, t('template.newBody'), bodyInput, t('template.newBodyHint'),
      [counter(bodyInput, TEMPLATE_LIMITS.body), h('p', { class: 'insert' }, insertButton), slot('body.text', bodyInput)]),
    examplesField,
    field(footerInput.id, t('template.newFooter'), footerInput, t('template.newFooterHint'),
      [counter(footerInput, TEMPLATE_LIMITS.footer), slot('footer.text', footerInput)]),
    h('div', { class: 'form-actions' }, cancel, submit));
  const dialog = h('dialog', { class: 'dialog wide', 'aria-labelledby': titleId, id: 'template-create' },
    h('h2', { id: titleId }, t('template.createTitle')), form);

  // One example field per placeholder of the text, kept as the text changes.
  const examples = new Map(); // placeholder number -> value
  let numbers = [];
  function renderExamples() {
    const found = placeholderNumbers(bodyInput.value);
    const next = (found.length ? Math.max(...found) : 0) + 1;
    clear(insertButton, t('template.insertPlaceholder', { placeholder: `{{${next}}}` }));
    insertButton.dataset.next = String(next);
    if (found.join(',') === numbers.join(',')) return;
    numbers = found;
    for (const key of [...slots.keys()]) if (key.startsWith('body.examples[')) slots.delete(key);
    noExamples.hidden = numbers.length > 0;
    clear(exampleList, numbers.map((n, i) => {
      const placeholder = `{{${n}}}`;
      const input = h('input', { type: 'text', id: `t-new-example-${i}`, 'data-placeholder': n, autocomplete: 'off', value: examples.get(n) || '' });
      input.addEventListener('input', () => examples.set(n, input.value));
      return h('li', { class: 'field' },
        h('label', { for: input.id }, t('template.example', { placeholder })), input,
        slot(`body.examples[${i}]`, input));
    }));
  }
  bodyInput.addEventListener('input', renderExamples);
  insertButton.addEventListener('click', () => {
    const text = `{{${insertButton.dataset.next}}}`;
    const { selectionStart: start, selectionEnd: end, value } = bodyInput;
    bodyInput.value = value.slice(0, start) + text + value.slice(end);
    bodyInput.dispatchEvent(new Event('input'));
    bodyInput.focus();
    bodyInput.setSelectionRange(start + text.length, start + text.length);
  });

  function clearErrors() {
    for (const s of slots.values()) {
      s.error.hidden = true;
      s.error.textContent = '';
      s.input?.removeAttribute('aria-invalid');
    }
    summary.hidden = true;
    clear(summary);
  }

  /** The slot of an API field: `body.examples[1]`, `footer` → `footer.text`, …; else none. */
  function slotFor(fieldPath) {
    if (slots.has(fieldPath)) return slots.get(fieldPath);
    const aliases = { body: 'body.text', footer: 'footer.text' };
    if (aliases[fieldPath]) return slots.get(aliases[fieldPath]);
    if (fieldPath.startsWith('body.examples')) return slots.get('body.examples');
    return null;
  }

  function showErrors(title, errors) {
    const general = [];
    for (const e of errors) {
      const s = slotFor(e.field || '');
      if (s) {
        s.error.textContent = s.error.textContent ? `${s.error.textContent} ${e.message}` : e.message;
        s.error.hidden = false;
        s.input?.setAttribute('aria-invalid', 'true');
      } else {
        general.push(e);
      }
    }
    clear(summary, h('h3', {}, title));
    if (errors.length) {
      summary.append(h('ul', {}, errors.map((e) => {
        const s = slotFor(e.field || '');
        const label = s?.input?.labels?.[0]?.textContent;
        return h('li', { class: s ? '' : 'general-error' }, s
          ? h('button', { type: 'button', class: 'link', onclick: () => s.input.focus() }, label ? `${label}: ${e.message}` : e.message)
          : e.message);
      })));
    }
    summary.dataset.general = String(general.length);
    summary.hidden = false;
    focus(summary);
  }

  function body() {
    const request = {
      name: nameInput.value.trim(),
      language: languageInput.value.trim(),
      category: categoryMarketing.checked ? 'MARKETING' : 'UTILITY',
      body: { text: bodyInput.value, examples: numbers.map((n) => (examples.get(n) || '').trim()) },
    };
    if (footerInput.value.trim()) request.footer = { text: footerInput.value.trim() };
    if (!accountField.hidden) request.waba_id = accountSelect.value;
    return request;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      const created = await api.createTemplate(body());
      reset();
      dialog.close();
      onCreated(created);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422 && error.fieldErrors.length) {
        showErrors(error.type === 'template-rejected' ? t('template.rejectedByMeta') : t('form.problemsTitle', { n: error.fieldErrors.length }),
          error.fieldErrors.map((e) => ({ field: e.field, message: ruleMessage(e) })));
      } else {
        showErrors(problem(error), []);
      }
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => onClose());

  /** Empty again for the next template (after one was submitted). */
  function reset() {
    for (const input of [nameInput, bodyInput, footerInput]) {
      input.value = '';
      input.dispatchEvent(new Event('input'));
    }
    categoryUtility.checked = true;
    examples.clear();
    renderExamples();
  }

  function open() {
    const known = accounts();
    accountField.hidden = known.length < 2;
    clear(accountSelect, known.map((a) => h('option', { value: a.waba_id }, a.waba_id)));
    const codes = [...new Set([...languages(), ...TEMPLATE_LANGUAGES])];
    clear(languageList, codes.map((code) => h('option', { value: code })));
    if (!languageInput.value) languageInput.value = mostCommon(languages()) || 'en_US';
    clearErrors();
    renderExamples();
    dialog.showModal();
    nameInput.focus();
  }

  renderExamples();
  return { dialog, open };
}
