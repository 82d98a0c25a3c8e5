// The console's shell: sign-in (token and chatbot), header, language switch, routing.
// Routes live in the URL fragment: #/ (follow-ups), #/new, #/f/{id}, #/f/{id}/edit,
// #/conversations, #/c/{conversation id}.
import { h, clear, focus, uid } from './dom.js';
import { api, session, ApiError, setUnauthenticatedHandler } from './api.js';
import { t, LANGUAGES, currentLanguage, setLanguage } from './i18n.js';
import { renderList } from './views-list.js';
import { renderForm } from './views-form.js';
import { renderDetails } from './views-details.js';
import { renderConversations, renderLog } from './views-conversations.js';

const main = document.getElementById('main');
const header = document.getElementById('header');
const notices = document.getElementById('notices');
let current = null; // the view's root element being shown
let pendingFlash = null; // a notice to show on the next view
let firstRender = true;
let renders = 0;

const app = {
  title(text) { document.title = `${text} · ${t('app.name')}`; },
  isCurrent(root) { return root === current; },
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  rerender() { route(); },
  /** Shows a success notice after the next navigation. */
  flash(text, details = []) { pendingFlash = { text, details }; },
  /** A polite notice now. */
  announce(text) { showNotice({ text, details: [] }); },
  alert(text) { showNotice({ text, details: [], error: true }); },
  describeError,
};

function describeError(error) {
  if (!(error instanceof ApiError)) return t('error.unexpected');
  if (error.status === 0) return t('error.network');
  if (error.status === 403) return t('error.forbidden', { chatbot: session.chatbot });
  if (error.status === 404) return t('error.notFound');
  if (error.type === 'active-limit-reached') return t('error.activeLimit', { max: 5 });
  if (error.status === 503) return t('error.unavailable');
  return error.problem?.detail || t('error.unexpected');
}

function showNotice(notice) {
  clear(notices);
  if (!notice) return;
  notices.append(h('div', { class: notice.error ? 'notice error' : 'notice', role: notice.error ? 'alert' : 'status' },
    h('p', {}, notice.text),
    notice.details.length ? h('ul', {}, notice.details.map((d) => h('li', {}, d))) : null,
    h('button', {
      type: 'button', class: 'link small', onclick: () => clear(notices),
    }, t('app.dismiss'))));
}

setUnauthenticatedHandler(() => {
  session.forgetToken();
  pendingFlash = { text: t('setup.tokenRefused'), details: [], error: true };
  route();
});

// ---- header ----------------------------------------------------------------------------------
function renderHeader() {
  const skip = document.querySelector('.skip-link');
  if (skip) skip.textContent = t('app.skip');
  const langId = uid('lang');
  const select = h('select', { id: langId, name: 'language' },
    Object.entries(LANGUAGES).map(([code, label]) => h('option', { value: code, lang: code }, label)));
  select.value = currentLanguage();
  select.addEventListener('change', () => {
    setLanguage(select.value);
    renderHeader();
    route();
    document.getElementById(langId)?.focus();
  });
  const hash = location.hash || '#/';
  const isConversations = hash.startsWith('#/conversations') || hash.startsWith('#/c/');
  clear(header, 
    h('div', { class: 'bar' },
      h('a', { class: 'brand', href: '#/' }, h('img', { src: 'icon.svg', alt: '', width: 28, height: 28 }), t('app.name')),
      session.ready()
        ? h('nav', { class: 'main-nav', 'aria-label': t('app.navLabel') },
          h('a', { href: '#/', 'aria-current': isConversations ? null : 'page' }, t('nav.followUps')),
          h('a', { href: '#/conversations', 'aria-current': isConversations ? 'page' : null }, t('nav.conversations')))
        : null,
      h('div', { class: 'bar-end' },
        session.ready() ? h('span', { class: 'chatbot', title: t('app.chatbot') },
          h('span', { class: 'sr-only' }, `${t('app.chatbot')}: `), session.chatbot) : null,
        h('div', { class: 'field inline small' }, h('label', { for: langId }, t('app.language')), select),
        session.ready() ? h('button', {
          type: 'button', class: 'button secondary small', id: 'sign-out',
          onclick: () => { session.clear(); app.flash(t('setup.signedOut')); app.go('#/'); },
        }, t('app.signOut')) : null)));
}

// ---- sign-in -----------------------------------------------------------------------------------
function renderSetup(root) {
  app.title(t('setup.title'));
  const tokenError = h('p', { class: 'field-error', id: 'token-error', hidden: true });
  const chatbotError = h('p', { class: 'field-error', id: 'chatbot-error', hidden: true });
  const token = h('input', {
    id: 'setup-token', name: 'token', type: 'password', autocomplete: 'off', required: true,
    spellcheck: 'false', 'aria-describedby': 'token-hint token-error',
  });
  const chatbot = h('input', {
    id: 'setup-chatbot', name: 'chatbot', type: 'text', autocomplete: 'off', required: true,
    spellcheck: 'false', autocapitalize: 'none', 'aria-describedby': 'chatbot-hint chatbot-error',
    value: session.chatbot,
  });
  const submit = h('button', { type: 'submit', class: 'button primary', id: 'setup-submit' }, t('setup.submit'));
  const fail = (input, slot, text) => {
    slot.textContent = text;
    slot.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  const form = h('form', { class: 'setup panel', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: token.id }, t('setup.token')),
      h('p', { class: 'hint', id: 'token-hint' }, t('setup.tokenHint')),
      token, tokenError),
    h('div', { class: 'field' },
      h('label', { for: chatbot.id }, t('setup.chatbot')),
      h('p', { class: 'hint', id: 'chatbot-hint' }, t('setup.chatbotHint')),
      chatbot, chatbotError),
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const [input, slot] of [[token, tokenError], [chatbot, chatbotError]]) {
      slot.hidden = true;
      input.removeAttribute('aria-invalid');
    }
    const tokenValue = token.value.trim();
    const chatbotValue = chatbot.value.trim();
    if (!tokenValue) return fail(token, tokenError, t('check.required', { field: t('setup.token') }));
    if (!chatbotValue) return fail(chatbot, chatbotError, t('check.required', { field: t('setup.chatbot') }));
    submit.disabled = true;
    try {
      await api.probe(tokenValue, chatbotValue);
      session.save(tokenValue, chatbotValue);
      if (!location.hash || location.hash === '#') location.hash = '#/'; // routes on hashchange
      else route();
    } catch (error) {
      submit.disabled = false;
      if (error instanceof ApiError && error.status === 401) fail(token, tokenError, t('setup.tokenRefused'));
      else if (error instanceof ApiError && error.status === 403) fail(chatbot, chatbotError, t('error.forbidden', { chatbot: chatbotValue }));
      else if (error instanceof ApiError && (error.status === 400 || error.status === 422)) fail(chatbot, chatbotError, t('setup.chatbotInvalid'));
      else fail(token, tokenError, describeError(error));
    }
  });
  root.append(
    h('div', { class: 'page-head' }, h('h1', { id: 'page-title', tabindex: '-1' }, t('setup.title'))),
    h('p', {}, t('setup.intro')),
    form);
}

// ---- routing -----------------------------------------------------------------------------------
async function route() {
  renderHeader();
  renders += 1;
  // data-route and data-render let a test (or a person with dev tools) tell views apart.
  const root = h('div', { class: 'view', 'data-route': location.hash || '#/', 'data-render': renders });
  current = root;
  clear(main, root);
  const flash = pendingFlash;
  pendingFlash = null;
  showNotice(flash);

  const path = (location.hash.replace(/^#/, '') || '/').split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (!session.ready()) renderSetup(root);
    else if (path.length === 0) await renderList(root, app);
    else if (path[0] === 'new') await renderForm(root, app);
    else if (path[0] === 'f' && path[1] && path[2] === 'edit') await renderForm(root, app, path[1]);
    else if (path[0] === 'f' && path[1]) await renderDetails(root, app, path[1]);
    else if (path[0] === 'conversations') await renderConversations(root, app);
    else if (path[0] === 'c' && path[1]) await renderLog(root, app, path[1]);
    else {
      app.title(t('error.notFound'));
      root.append(h('h1', { id: 'page-title', tabindex: '-1' }, t('error.notFound')),
        h('p', {}, h('a', { href: '#/' }, t('details.back'))));
    }
  } catch (error) {
    if (!app.isCurrent(root) || (error instanceof ApiError && error.status === 401)) return;
    clear(root, 
      h('h1', { id: 'page-title', tabindex: '-1' }, t('error.title')),
      h('p', { class: 'alert', role: 'alert' }, describeError(error)),
      h('p', {}, h('a', { href: '#/' }, t('details.back'))));
  }
  if (!app.isCurrent(root)) return;
  // Move focus to the new page's heading so keyboard and screen reader users start there.
  if (!firstRender) focus(root.querySelector('#page-title'));
  firstRender = false;
  root.setAttribute('data-ready', 'true');
}

// The skip link must not touch the fragment, which holds the route.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  focus(main.querySelector('#page-title') || main);
});

window.addEventListener('hashchange', route);
document.documentElement.lang = currentLanguage();
route();
