// The console's only way to the service: the public /v1 API with the operator's bearer
// token. The token lives in sessionStorage (this tab only, gone when it closes).

const TOKEN_KEY = 'followup-console.token';
const CHATBOT_KEY = 'followup-console.chatbot';

// The console is served at <prefix>/console/ (no prefix locally, a stage name behind API
// Gateway); the API lives at <prefix>/v1.
export const base = location.pathname.replace(/\/console(\/.*)?$/, '');

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ''; },
  get chatbot() { return sessionStorage.getItem(CHATBOT_KEY) || ''; },
  ready() { return Boolean(this.token && this.chatbot); },
  save(token, chatbot) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(CHATBOT_KEY, chatbot);
  },
  forgetToken() { sessionStorage.removeItem(TOKEN_KEY); },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(CHATBOT_KEY);
  },
};

/** A non-2xx answer (status 0: the service could not be reached). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || null;
  }
  get type() { return this.problem?.type || ''; }
  /** The 422 `errors[]`: [{field, rule, message}]. */
  get fieldErrors() { return Array.isArray(this.problem?.errors) ? this.problem.errors : []; }
}

let onUnauthenticated = () => {};
/** Called on any 401: the token was refused (wrong, revoked or expired). */
export function setUnauthenticatedHandler(handler) { onUnauthenticated = handler; }

export async function call(method, path, { body, query, headers, token } = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const url = base + path + (params.toString() ? `?${params}` : '');
  const init = {
    method,
    cache: 'no-store',
    headers: {
      Accept: 'application/json',
      Authorization: `Bearer ${token ?? session.token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, null);
  }
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch { data = null; }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && token === undefined) onUnauthenticated(error);
    throw error;
  }
  return { status: response.status, data, headers: response.headers };
}

const enc = encodeURIComponent;
const bot = () => `/v1/chatbots/${enc(session.chatbot)}`;
const fu = (id) => `${bot()}/follow-ups/${enc(id)}`;

export const api = {
  /** Checks a token and chatbot before they are kept. */
  probe: (token, chatbot) => call('GET', `/v1/chatbots/${enc(chatbot)}/follow-ups`, { token }),
  listFollowUps: (filter) => call('GET', `${bot()}/follow-ups`, { query: filter }).then((r) => r.data),
  getFollowUp: (id) => call('GET', fu(id)).then((r) => r.data),
  createFollowUp: (body) => call('POST', `${bot()}/follow-ups`, { body }).then((r) => r.data),
  replaceFollowUp: (id, body, revision) =>
    call('PUT', fu(id), { body, headers: { 'If-Match': `"${revision}"` } }).then((r) => r.data),
  deleteFollowUp: (id) => call('DELETE', fu(id)),
  activate: (id) => call('POST', `${fu(id)}/activate`).then((r) => r.data),
  deactivate: (id) => call('POST', `${fu(id)}/deactivate`).then((r) => r.data),
  deliveries: (id) => call('GET', `${fu(id)}/deliveries`).then((r) => r.data),
  stats: (id) => call('GET', `${fu(id)}/stats`).then((r) => r.data),
  conversations: () => call('GET', `${bot()}/conversations`).then((r) => r.data),
  conversation: (id) => call('GET', `${bot()}/conversations/${enc(id)}`).then((r) => r.data),
  /** The chatbot's WhatsApp template catalogue: {items, accounts, billing_note}. */
  templates: (filter) => call('GET', `${bot()}/whatsapp-templates`, { query: filter }).then((r) => r.data),
  /** Lists the templates from Meta again (409 without a business account); same answer. */
  refreshTemplates: () => call('POST', `${bot()}/whatsapp-templates/refresh`).then((r) => r.data),
  /** Submits a new template for Meta's review; answers the catalogue entry (PENDING). */
  createTemplate: (body) => call('POST', `${bot()}/whatsapp-templates`, { body }).then((r) => r.data),
  /** What a follow-up would do in a conversation now; sends and saves nothing. */
  dryRun: (conversationId, followUpId) =>
    call('POST', `${bot()}/conversations/${enc(conversationId)}/dry-run`, { body: { follow_up_id: followUpId } })
      .then((r) => r.data),
  conversationLog: (id, before) =>
    call('GET', `${bot()}/conversations/${enc(id)}/log`, { query: { limit: 100, before } })
      .then((r) => r.data),
};
