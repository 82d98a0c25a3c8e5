//! [`OfflineJudge`]: the deterministic default when no model is configured.
//!
//! **This is a keyword heuristic, not an LLM.** It reads no meaning into a conversation;
//! it matches fixed, multilingual phrase lists (English, German, Spanish, Portuguese,
//! French) and counts shared words. It exists so the whole service runs on one machine
//! without a model, and it errs on the side of *not* sending when a customer clearly said
//! no. Same input, same output: no clock, no randomness, no hash-map ordering.
//!
//! # Stop trigger
//! Met when the customer's latest messages (their last turn: the consecutive customer
//! lines ending at their last message, at most three) contain a stop phrase, or when one
//! of the business's last two messages says it handed the conversation over or confirmed
//! the goal. Phrase categories:
//! - **always on**: opt-out and clear declines ("stop", "unsubscribe", "no thanks",
//!   "not interested", "nein danke", "kein Interesse", "abmelden", "no gracias",
//!   "no me interesa", "não obrigado", "sem interesse", "non merci", "pas intéressé", …)
//!   and a business hand-over to a person ("a colleague will contact you", …). A customer
//!   who opts out is never followed up, whatever the stop trigger says.
//! - **enabled by the stop trigger's wording** (its words are matched by stem in all five
//!   languages): cancellation ("cancel", "absagen", "cancelar", "annuler"), confirmation
//!   or booking ("confirmed", "already booked", "bestätigt", "ya reservé", "já marquei",
//!   "déjà réservé"), purchase ("bought", "gekauft", "compré", "comprei", "acheté"),
//!   enrolment, acceptance of an offer, thanks ("thanks", "danke", "gracias", "obrigado",
//!   "merci": only when the trigger mentions thanks and the customer's turn asks nothing),
//!   satisfaction and a reported problem. So "I bought it" stops an abandoned-cart
//!   follow-up but not an after-sales one whose trigger is about satisfaction.
//!
//! Phrases written without accents match with or without accents in the text; phrases
//! with accents ("réservé") need them, because the unaccented form is often another word
//! ("reserve"). A clause that is a question ("can I cancel later?", "¿puedo cancelar?")
//! is skipped, and a phrase preceded within three words by a negation ("I don't want to
//! cancel", "noch nicht gebucht", "je n'ai pas encore réservé") does not count.
//!
//! # Description applies
//! When the conversation shares at least one content word with the description: both are
//! lowercased, accent-folded, stripped of stop words (function words and words every
//! description has: "customer", "follow-up", "message", …) and compared by prefix (a
//! simple stemmer: "booking" meets "booked", "Termin" meets "Terminen"). A small concept
//! table lets words meet across languages ("appointment" ~ "Termin" ~ "cita" ~ "consulta"
//! ~ "rendez-vous"; "purchase" ~ "Kauf" ~ "compra" ~ "achat"; cart, quote, course,
//! delivery). A generic description (no content words left, or "any conversation",
//! "always", …) always applies. A description *for after a purchase* ("after a
//! purchase", "nach dem Kauf", "después de la compra", "após a compra", "après l'achat",
//! "after-sales", …) additionally needs a completed purchase in the transcript.
//!
//! # Timing (an `ai` delay)
//! Send now when at least 2 hours passed since the customer's last message; otherwise
//! wait until that message + 2 h (the low end of the 2-6 h that usually works best),
//! never past `latest_send_at`.
//!
//! # Text (an `ai` message)
//! A short, neutral follow-up in the conversation's language (guessed by
//! [`crate::language::guess`] from the customer's messages; templates in en, de, es, pt,
//! fr; English otherwise), cut to `max_text_chars`. It promises nothing and links nowhere.

use async_trait::async_trait;
use followup_domain::Timestamp;
use followup_ports::{Judge, JudgeError, JudgeRequest, JudgeVerdict, Speaker, TranscriptLine};

use crate::language::{self, Language};

/// What the offline judge is, for logs, start-up banners and the API.
pub const DESCRIPTION: &str = "offline judge: a deterministic multilingual keyword heuristic \
(en, de, es, pt, fr), not an LLM. Stop trigger: opt-out/decline/cancel/confirm/purchase \
phrases in the customer's latest messages or a hand-over by the business; description: \
shared content words; ai delay: 2 h after the customer's last message; ai message: a \
neutral template in the conversation's language.";

/// Minutes after the customer's last message at which an `ai` delay sends.
pub const AI_DELAY_MINUTES: u32 = 120;

/// The deterministic offline judge: the checked-in classifier over the keyword rules
/// (see the module documentation), or the keyword rules alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineJudge {
    rules_only: bool,
}

impl OfflineJudge {
    /// The classifier judge (the default).
    pub const fn new() -> Self {
        Self { rules_only: false }
    }

    /// The keyword rules alone, without the classifier: what the classifier builds on,
    /// kept for comparison (`judge-eval --judge rules`) and for its tests.
    pub const fn rules_only() -> Self {
        Self { rules_only: true }
    }

    /// The verdict, synchronously (the judge does no I/O).
    pub fn decide(&self, request: &JudgeRequest) -> Result<JudgeVerdict, JudgeError> {
        let (rule_stop, rule_stop_reason) = stop_trigger(request);
        let (rule_applies, rule_applies_reason) = description_applies(request);
        let (stop_trigger_met, stop_reason, description_applies, applies_reason, unsure) =
            match crate::model::embedded().filter(|_| !self.rules_only) {
                Some(model) => {
                    let t = model.thresholds;
                    let p_stop = model
                        .stop
                        .probability(&crate::model::stop_features(request));
                    let p_applies = model
                        .applies
                        .probability(&crate::model::applies_features(request));
                    let stop = p_stop >= t.stop;
                    let applies = p_applies >= t.applies;
                    // A customer whose last turn asks something (and names no stop the
                    // rules know) is waiting for an answer: not a case to hold. The
                    // question need not be the turn's last sentence ("Can I book for
                    // Tuesday? I am also curious about the course.").
                    let asks = last_customer_turn(&request.transcript)
                        .iter()
                        .any(|l| l.text.contains('?'))
                        && !rule_stop;
                    let unsure = (!stop && applies && !asks && p_stop >= t.unsure).then(|| {
                        format!(
                            "stop probability {p_stop:.2} is in the unsure band {:.2}..{:.2}",
                            t.unsure, t.stop
                        )
                    });
                    (
                        stop,
                        format!("classifier: stop probability {p_stop:.2}; {rule_stop_reason}"),
                        applies,
                        format!(
                            "classifier: applies probability {p_applies:.2}; {rule_applies_reason}"
                        ),
                        unsure,
                    )
                }
                None => (
                    rule_stop,
                    rule_stop_reason,
                    rule_applies,
                    rule_applies_reason,
                    None,
                ),
            };
        let proceeds = !stop_trigger_met && description_applies && unsure.is_none();
        let wait_until = if request.decides_timing() && proceeds {
            timing(request)
        } else {
            None
        };
        let message_text = if request.writes_text() && proceeds {
            Some(text(request)?)
        } else {
            None
        };
        Ok(JudgeVerdict {
            stop_trigger_met,
            stop_reason,
            description_applies,
            applies_reason,
            wait_until,
            message_text,
            evidence: followup_ports::VerdictEvidence::default(),
            unsure,
            usage: None,
        })
    }
}

#[async_trait]
impl Judge for OfflineJudge {
    async fn assess(&self, request: &JudgeRequest) -> Result<JudgeVerdict, JudgeError> {
        self.decide(request)
    }
}

// ---------------------------------------------------------------------------------------
// Phrase matching.

/// A piece of text ready for phrase matching: its words joined by single spaces and padded,
/// once as typed (lowercased) and once accent-folded.
struct Clause {
    lower: String,
    folded: String,
    words: Vec<String>,
    folded_words: Vec<String>,
    question: bool,
}

#[rustfmt::skip]
const NEGATORS: &[&str] = &[
    "not", "no", "don't", "dont", "didn't", "didnt", "haven't", "havent", "hasn't", "hasnt",
    "never", "won't", "wont", "nicht", "nie", "kein", "keine", "keinen", "keiner", "nunca", "sin",
    "nao", "nem", "sem", "pas", "ne", "n'ai", "n'est", "jamais", "sans", "aucun",
];

/// Openings that make a clause a question even without a question mark.
#[rustfmt::skip]
const QUESTION_OPENINGS: &[&str] = &[
    "can i", "could i", "how do", "how can", "do i", "is it possible", "kann ich", "konnte ich",
    "wie kann", "puedo", "se puede", "como puedo", "posso", "como posso", "est ce", "puis je",
    "je peux", "comment",
];

impl Clause {
    fn new(text: &str, question: bool) -> Self {
        let words = language::words(text);
        let folded_words = language::words(&language::fold(text));
        let pad = |w: &[String]| format!(" {} ", w.join(" "));
        let folded = pad(&folded_words);
        let question = question
            || QUESTION_OPENINGS
                .iter()
                .any(|q| folded.starts_with(&format!(" {q} ")));
        Self {
            lower: pad(&words),
            folded,
            words,
            folded_words,
            question,
        }
    }

    /// Whether `phrase` occurs (when `negatable`, not negated just before it). ASCII
    /// phrases match the folded text too; phrases with accents only match text typed
    /// with them.
    fn matches(&self, phrase: &str, negatable: bool) -> bool {
        let phrase_words = language::words(phrase);
        if phrase_words.is_empty() {
            return false;
        }
        let check_negation = negatable && !NEGATORS.contains(&phrase_words[0].as_str());
        let ascii = phrase.is_ascii();
        let candidates: [(&str, &[String]); 2] = [
            (&self.lower, &self.words),
            (&self.folded, &self.folded_words),
        ];
        candidates
            .iter()
            .take(if ascii { 2 } else { 1 })
            .any(|(padded, words)| {
                if !padded.contains(&format!(" {} ", phrase_words.join(" "))) {
                    return false;
                }
                !check_negation || occurrence_not_negated(words, &phrase_words)
            })
    }
}

/// True when at least one occurrence of `phrase` in `words` has no negator among the three
/// words before it.
fn occurrence_not_negated(words: &[String], phrase: &[String]) -> bool {
    let n = phrase.len();
    (0..words.len().saturating_sub(n - 1))
        .filter(|&i| words[i..i + n] == *phrase)
        .any(|i| {
            words[i.saturating_sub(3)..i]
                .iter()
                .all(|w| !NEGATORS.contains(&w.as_str()) && !w.starts_with("n'"))
        })
}

/// Splits a message into clauses at `. ! ? ; ,` and line breaks, remembering which ended
/// with a question mark or started with `¿`.
fn clauses(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if matches!(c, '.' | '!' | '?' | ';' | ',' | '\n') {
            let trimmed = current.trim();
            if !trimmed.is_empty() {
                out.push(Clause::new(trimmed, c == '?' || trimmed.starts_with('¿')));
            }
            current.clear();
        } else {
            current.push(c);
        }
    }
    let trimmed = current.trim();
    if !trimmed.is_empty() {
        out.push(Clause::new(trimmed, trimmed.starts_with('¿')));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Stop trigger.

struct Category {
    name: &'static str,
    /// Whether a negation just before a phrase cancels it. Off for declines, whose
    /// phrases carry their own negation ("je ne suis plus intéressé").
    negatable: bool,
    /// Stems of the stop trigger that enable the category (folded); empty: always on.
    enabled_by: &'static [&'static str],
    customer: &'static [&'static str],
    business: &'static [&'static str],
}

#[rustfmt::skip]
const CATEGORIES: &[Category] = &[
    Category {
        name: "opted out or declined",
        negatable: false,
        enabled_by: &[],
        customer: &[
            // en
            "stop", "unsubscribe", "opt out", "no thanks", "no thank you", "not interested",
            "no longer interested", "not interested anymore", "don't contact me", "dont contact me",
            "do not contact me", "stop messaging", "stop writing", "stop texting",
            "don't message me", "dont message me", "no more messages", "leave me alone",
            "remove me", "not for me", "changed my mind", "i'll pass", "ill pass", "don't need it",
            "dont need it", "never mind", "nevermind", "not anymore",
            // de
            "nein danke", "kein interesse", "keine interesse", "kein bedarf", "abmelden",
            "abbestellen", "nicht mehr interessiert", "nicht interessiert", "stopp",
            "hat sich erledigt", "brauche ich nicht", "brauche ich nicht mehr",
            "schreiben sie mir nicht", "keine nachrichten mehr", "nicht mehr schreiben",
            // es
            "no gracias", "no me interesa", "ya no me interesa", "no estoy interesado",
            "no estoy interesada", "no necesito", "ya no lo necesito", "dejen de escribir",
            "deja de escribir", "dejen de escribirme", "darme de baja", "dar de baja",
            "no me escriban", "no me escribas", "no me manden más", "no me manden mas",
            "no me envíen más", "no me envien mas", "olvídalo", "olvidalo",
            // pt
            "não obrigado", "nao obrigado", "não obrigada", "nao obrigada", "não tenho interesse",
            "nao tenho interesse", "sem interesse", "não estou interessado",
            "nao estou interessado", "não estou interessada", "nao estou interessada",
            "não me interessa", "nao me interessa", "não preciso", "nao preciso", "parem de",
            "pare de me", "não me mande mais", "nao me mande mais", "não mandem mais",
            "nao mandem mais", "descadastrar", "sair da lista", "deixa pra la", "deixa para la",
            // fr
            "non merci", "pas intéressé", "pas interesse", "pas intéressée", "pas interessee",
            "plus intéressé", "plus interesse", "plus intéressée", "plus interessee",
            "ne m'intéresse pas", "ne m'interesse pas", "m'intéresse plus", "m'interesse plus",
            "désabonner", "desabonner", "désinscrire", "desinscrire", "ne m'envoyez plus",
            "arrêtez de", "arretez de", "pas besoin", "plus besoin", "laissez moi tranquille",
        ],
        business: &[],
    },
    Category {
        name: "handed over to a person",
        negatable: false,
        enabled_by: &[],
        customer: &[],
        business: &[
            "transferring you", "transfer you", "transferred you", "connect you with",
            "connecting you with", "a colleague will", "one of our colleagues will",
            "an agent will", "a human agent", "our support team will", "support team will contact",
            "escalated", "handed over to", "ich leite sie", "ich leite ihr", "weitergeleitet",
            "ein kollege wird", "eine kollegin wird", "unser support meldet", "te paso con",
            "le paso con", "un agente", "un asesor te", "un asesor le", "he escalado", "escalado",
            "vou transferir", "vou te transferir", "um atendente", "encaminhei", "encaminhado",
            "je vous transfère", "je vous transfere", "un conseiller va", "un conseiller vous",
            "transmis à", "transmis a",
        ],
    },
    Category {
        name: "cancelled",
        negatable: true,
        enabled_by: &[
            "cancel", "absag", "storn", "annul", "desmarc", "kundig", "anul",
        ],
        customer: &[
            "cancel", "cancelled", "canceled", "absagen", "sage ab", "sagen ab", "abgesagt",
            "stornieren", "storniere", "storno", "cancelar", "cancelo", "cancela", "cancelen",
            "anular", "cancelem", "desmarcar", "annuler", "annulez", "j'annule", "annulé",
        ],
        business: &[],
    },
    Category {
        name: "confirmed or booked",
        negatable: true,
        enabled_by: &[
            "confirm", "book", "reserv", "bestatig", "buch", "agend", "marc", "rendez", "goal",
            "ziel", "objetivo", "objectif",
        ],
        customer: &[
            "confirmed", "i confirm", "confirming", "already booked", "i booked", "booked it",
            "booked elsewhere", "see you then", "see you tomorrow", "see you on", "bestätigt",
            "bestatigt", "ich bestätige", "ich bestatige", "gebucht", "bis dann", "bis morgen",
            "confirmado", "confirmada", "confirmo", "ya reservé", "ya reserve", "reservé",
            "nos vemos", "já marquei", "ja marquei", "marquei", "agendei", "reservei", "até amanhã",
            "ate amanha", "confirmé", "confirmée", "je confirme", "déjà réservé", "deja reserve",
            "j'ai réservé", "j'ai reserve", "à demain", "c'est noté", "c'est note", "works for me",
            "passt mir", "me viene bien", "me va bien", "ça me va", "ca me va",
        ],
        business: &[
            "your appointment is confirmed", "appointment is booked", "booking is confirmed",
            "you're booked", "you are booked", "see you on", "termin ist bestätigt",
            "termin ist bestatigt", "termin ist gebucht", "cita está confirmada",
            "cita esta confirmada", "cita confirmada", "reserva confirmada",
            "agendamento confirmado", "horário confirmado", "horario confirmado",
            "rendez vous est confirmé", "rendez vous confirmé", "réservation confirmée",
            "reservation confirmee",
        ],
    },
    Category {
        name: "bought or ordered",
        negatable: true,
        enabled_by: &[
            "purchas", "bought", "buy", "order", "paid", "pay", "checkout", "complet", "kauf",
            "bestell", "bezahl", "compr", "pag", "pedido", "achat", "achet", "command", "paye",
            "goal", "ziel", "objetivo", "objectif",
        ],
        customer: &[
            "bought", "already bought", "purchased", "i ordered", "just ordered", "i paid",
            "just paid", "already paid", "bought it elsewhere", "gekauft", "bestellt", "bezahlt",
            "habe bestellt", "compré", "ya compré", "ya compre", "pagué", "ya pagué", "ya pague",
            "hice el pedido", "comprei", "já comprei", "ja comprei", "paguei", "fiz o pedido",
            "acheté", "déjà acheté", "deja achete", "commandé", "j'ai commandé", "j'ai commande",
            "payé", "j'ai payé", "j'ai paye",
        ],
        business: &[
            "order is confirmed", "order has been placed", "order confirmed", "payment received",
            "received your payment", "thanks for your order", "thank you for your order",
            "bestellung ist bestätigt", "bestellung bestätigt", "zahlung erhalten",
            "pedido confirmado", "pago recibido", "pagamento recebido", "commande est confirmée",
            "commande confirmée", "paiement reçu",
        ],
    },
    Category {
        name: "enrolled",
        negatable: true,
        enabled_by: &[
            "enrol", "regist", "sign", "anmeld", "eingeschrieb", "inscri", "matricul",
        ],
        customer: &[
            "enrolled", "i signed up", "signed up", "registered", "angemeldet", "eingeschrieben",
            "me inscribí", "me inscribi", "inscrito", "inscrita", "me apunté", "me apunte",
            "me inscrevi", "matriculei", "inscrevi", "je suis inscrit", "je suis inscrite",
            "inscrit", "inscrite",
        ],
        business: &[
            "you're enrolled", "you are enrolled", "you're registered", "you are registered",
            "registration is confirmed", "anmeldung ist bestätigt", "anmeldung bestätigt",
            "inscripción confirmada", "inscripcion confirmada", "matrícula confirmada",
            "inscrição confirmada", "inscription est confirmée", "inscription confirmée",
        ],
    },
    Category {
        name: "accepted the offer",
        negatable: true,
        enabled_by: &[
            "accept", "annehm", "akzept", "acept", "aceit", "agree", "zusag",
        ],
        customer: &[
            "i accept", "we accept", "accepted", "i'll take it", "ill take it", "let's do it",
            "lets do it", "go ahead", "deal", "agreed", "einverstanden", "nehme das angebot",
            "nehmen das angebot", "angebot angenommen", "acepto", "aceptamos", "de acuerdo",
            "adelante", "aceito", "aceitamos", "fechado", "pode seguir", "j'accepte",
            "nous acceptons", "d'accord", "on y va",
        ],
        business: &[],
    },
    Category {
        name: "said thanks",
        negatable: true,
        enabled_by: &[
            "thank", "dank", "gracias", "agradec", "obrigad", "merci", "remerci",
        ],
        customer: &[
            "thanks", "thank you", "thx", "cheers", "danke", "vielen dank", "dankeschön",
            "dankeschon", "gracias", "muchas gracias", "obrigado", "obrigada", "obg", "valeu",
            "merci", "merci beaucoup",
        ],
        business: &[],
    },
    Category {
        name: "confirmed satisfaction",
        negatable: true,
        enabled_by: &["satisf", "happy", "zufrieden", "content"],
        customer: &[
            "works great", "works perfectly", "works fine", "love it", "all good", "very happy",
            "happy with", "satisfied", "everything is fine", "zufrieden", "funktioniert super",
            "funktioniert gut", "funktioniert einwandfrei", "alles gut", "alles bestens",
            "satisfecho", "satisfecha", "contento", "contenta", "funciona bien",
            "funciona perfecto", "todo bien", "me encanta", "satisfeito", "satisfeita",
            "funciona bem", "funcionando bem", "tudo certo", "adorei", "amei", "gostei",
            "satisfait", "satisfaite", "fonctionne bien", "marche bien", "tout va bien", "j'adore",
        ],
        business: &[],
    },
    Category {
        name: "reported a problem",
        negatable: true,
        enabled_by: &[
            "problem", "issue", "complain", "support", "escalat", "defect", "broken", "reklam",
            "beschwer", "reclam", "plainte", "soporte", "suporte", "eskal",
        ],
        customer: &[
            "doesn't work", "doesnt work", "does not work", "not working", "broken", "damaged",
            "defective", "problem", "issue", "refund", "return it", "wrong size", "wrong item",
            "never arrived", "hasn't arrived", "not satisfied", "complaint", "funktioniert nicht",
            "kaputt", "defekt", "beschädigt", "beschadigt", "reklamation", "reklamieren",
            "zurückschicken", "zuruckschicken", "rückerstattung", "nicht angekommen",
            "nicht zufrieden", "beschwerde", "no funciona", "roto", "rota", "dañado", "danado",
            "defectuoso", "problema", "reembolso", "devolver", "devolución", "devolucion",
            "no ha llegado", "no llegó", "no llego", "queja", "reclamo", "reclamación",
            "no estoy satisfecho", "não funciona", "nao funciona", "quebrado", "quebrada",
            "com defeito", "danificado", "devolução", "devolucao", "não chegou", "nao chegou",
            "reclamação", "reclamacao", "não estou satisfeito", "nao estou satisfeito",
            "ne marche pas", "ne fonctionne pas", "fonctionne pas", "cassé", "abîmé", "défectueux",
            "defectueux", "problème", "probleme", "remboursement", "pas arrivé", "pas arrive",
            "pas reçu", "pas recu", "réclamation", "plainte", "pas satisfait",
        ],
        business: &[],
    },
];

fn category_enabled(category: &Category, folded_trigger: &str) -> bool {
    category.enabled_by.is_empty()
        || category
            .enabled_by
            .iter()
            .any(|stem| folded_trigger.contains(stem))
}

/// The customer's last turn: the consecutive customer lines ending at their last message
/// (at most three), oldest first.
fn last_customer_turn(transcript: &[TranscriptLine]) -> Vec<&TranscriptLine> {
    let Some(last) = transcript
        .iter()
        .rposition(|l| l.speaker == Speaker::Customer)
    else {
        return Vec::new();
    };
    let mut turn: Vec<&TranscriptLine> = transcript[..=last]
        .iter()
        .rev()
        .take_while(|l| l.speaker == Speaker::Customer)
        .take(3)
        .collect();
    turn.reverse();
    turn
}

/// Who said the stop phrase the rules found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SaidBy {
    Customer,
    Business,
}

fn stop_trigger(request: &JudgeRequest) -> (bool, String) {
    match stop_match(request) {
        Some((category, SaidBy::Customer)) => (
            true,
            format!("keyword heuristic: the customer's latest messages say they {category}"),
        ),
        Some((category, SaidBy::Business)) => (
            true,
            format!(
                "keyword heuristic: the business's last messages say the conversation was {category}"
            ),
        ),
        None => (
            false,
            "keyword heuristic: no stop phrase in the customer's latest messages".to_owned(),
        ),
    }
}

/// The rule category that fired for the stop trigger, if any (a feature of the model).
pub(crate) fn stop_rule(request: &JudgeRequest) -> Option<&'static str> {
    stop_match(request).map(|(category, _)| category)
}

/// The rule categories the stop trigger's wording enables (a feature of the model).
pub(crate) fn enabled_categories(request: &JudgeRequest) -> Vec<&'static str> {
    let trigger = language::fold(request.follow_up.stop_trigger.as_str());
    CATEGORIES
        .iter()
        .filter(|c| !c.enabled_by.is_empty() && category_enabled(c, &trigger))
        .map(|c| c.name)
        .collect()
}

fn stop_match(request: &JudgeRequest) -> Option<(&'static str, SaidBy)> {
    let trigger = language::fold(request.follow_up.stop_trigger.as_str());
    let turn = last_customer_turn(&request.transcript);
    let last_business: Vec<&TranscriptLine> = request
        .transcript
        .iter()
        .rev()
        .filter(|l| l.speaker == Speaker::Business)
        .take(2)
        .collect();
    // Negatable categories look at clauses (split at commas too), so a negation or a
    // question only reaches its own clause. Declines and hand-overs look at whole
    // messages, so "No, thanks" and "Não, obrigado" still read as one phrase, and they
    // count even inside a question ("can you stop messaging me?").
    let split = |lines: &[&TranscriptLine]| -> Vec<Clause> {
        lines.iter().flat_map(|line| clauses(&line.text)).collect()
    };
    let whole = |lines: &[&TranscriptLine]| -> Vec<Clause> {
        lines
            .iter()
            .map(|line| Clause::new(&line.text, false))
            .collect()
    };
    let (customer_clauses, customer_whole) = (split(&turn), whole(&turn));
    let (business_clauses, business_whole) = (split(&last_business), whole(&last_business));
    let customer_asks = customer_clauses.iter().any(|c| c.question);
    for category in CATEGORIES {
        if !category_enabled(category, &trigger) {
            continue;
        }
        let thanks = category.name == "said thanks";
        if thanks && customer_asks {
            continue;
        }
        let said = |clauses: &[Clause], phrases: &[&str]| {
            clauses
                .iter()
                .filter(|c| !category.negatable || !c.question)
                .any(|c| phrases.iter().any(|p| c.matches(p, category.negatable)))
        };
        let (customer, business) = if category.negatable {
            (&customer_clauses, &business_clauses)
        } else {
            (&customer_whole, &business_whole)
        };
        if said(customer, category.customer) {
            return Some((category.name, SaidBy::Customer));
        }
        if said(business, category.business) {
            return Some((category.name, SaidBy::Business));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Description.

#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    // en
    "the", "and", "for", "with", "that", "this", "was", "were", "has", "have", "had", "not", "but",
    "did", "does", "doesn't", "didn't", "yet", "you", "your", "they", "their", "them", "she", "her",
    "his", "him", "who", "what", "when", "where", "which", "why", "how", "are", "our", "its",
    "it's", "from", "into", "about", "after", "before", "any", "all", "some", "out", "just", "can",
    "could", "would", "will", "should", "there", "then", "than", "been", "being", "also", "only",
    "very", "too", "more", "most", "one", "get", "got", "want", "wants", "wanted", "make", "made",
    "sure", "still", "again", "yes", "hello", "thanks", "thank", "please", "okay", "let", "know",
    "need", "like", "would", "i'm", "don't", "won't", "time", "day", "today", "now", "back", "see",
    // domain words every description has
    "customer", "customers", "client", "clients", "conversation", "chat", "follow", "followup",
    "message", "messages", "reply", "replied", "answer", "answered", "interest", "interested",
    "showed", "show", "asked", "ask", "stopped", "responding", "pending", "action", "contact",
    "remind", "reminder", "check", "help",
    // de
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und",
    "oder", "aber", "mit", "für", "fur", "von", "vom", "zum", "zur", "auf", "aus", "bei", "nach",
    "vor", "hat", "haben", "habe", "ist", "sind", "war", "wird", "wurde", "noch", "nicht", "kein",
    "keine", "sich", "sie", "ich", "wir", "ihr", "ihre", "ihnen", "mir", "mich", "uns", "auch",
    "schon", "wenn", "dass", "wie", "was", "wann", "danke", "bitte", "hallo", "gerne", "kunde",
    "kundin", "kunden", "nachricht", "interesse", "gezeigt", "zeit", "heute", "morgen", "kann",
    "können", "konnen", "möchte", "mochte",
    // es
    "el", "la", "los", "las", "un", "una", "unos", "unas", "del", "al", "que", "por", "para", "con",
    "sin", "pero", "como", "cuando", "donde", "ya", "todavía", "todavia", "aún", "aun", "muy",
    "más", "mas", "este", "esta", "esto", "ese", "esa", "su", "sus", "mi", "tu", "le", "lo", "les",
    "se", "es", "son", "fue", "ha", "han", "hay", "no", "sí", "si", "gracias", "hola", "cliente",
    "clientes", "mensaje", "interés", "interes", "mostró", "mostro", "tiempo", "hora", "hoy",
    "mañana", "manana", "después", "despues", "quiero", "puedo",
    // pt
    "o", "os", "as", "um", "uma", "do", "da", "dos", "das", "no", "na", "nos", "nas", "ao", "em",
    "com", "sem", "mas", "ou", "se", "não", "nao", "já", "ja", "ainda", "muito", "seu", "sua",
    "meu", "minha", "ele", "ela", "você", "voce", "obrigado", "obrigada", "olá", "ola", "mensagem",
    "interesse", "mostrou", "tempo", "hoje", "amanhã", "amanha", "depois", "após", "apos", "quero",
    "posso", "pode",
    // fr
    "le", "les", "une", "des", "du", "de", "et", "ou", "mais", "avec", "pour", "par", "sur", "dans",
    "pas", "ne", "plus", "déjà", "deja", "encore", "très", "tres", "son", "ses", "mon", "mes",
    "votre", "vos", "il", "elle", "ils", "nous", "vous", "je", "est", "sont", "été", "ete", "merci",
    "bonjour", "message", "intérêt", "interet", "montré", "montre", "temps", "heure", "aujourd'hui",
    "demain", "après", "apres", "veux", "peux",
];

/// Concepts that let words meet across languages; stems are folded and matched as
/// prefixes of folded words.
#[rustfmt::skip]
const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "appointment",
        &[
            "appoint", "termin", "cita", "consult", "agend", "rendez", "rdv", "booking", "book",
            "reserv", "slot", "gebucht", "buchen", "buchung", "schedul", "marcar", "marquei",
            "marcou",
        ],
    ),
    (
        "purchase",
        &[
            "purchas", "buy", "bought", "order", "kauf", "gekauft", "bestell", "compr", "pedido",
            "achat", "achet", "command", "paid", "payment", "bezahl", "pago", "pague", "pagu",
            "paye", "paiement",
        ],
    ),
    (
        "cart",
        &[
            "cart", "basket", "warenkorb", "carrito", "carrinho", "panier", "checkout", "kasse",
        ],
    ),
    (
        "quote",
        &[
            "price", "quote", "cost", "estimat", "preis", "angebot", "kosten", "precio",
            "presupuesto", "cotiz", "preco", "orcamento", "cotac", "prix", "devis", "tarif",
        ],
    ),
    (
        "course",
        &[
            "course", "class", "enrol", "lesson", "kurs", "anmeld", "unterricht", "curso", "clase",
            "inscri", "matricul", "aula", "cours", "formation", "lecon",
        ],
    ),
    (
        "delivery",
        &[
            "deliver", "ship", "parcel", "package", "arriv", "liefer", "versand", "paket", "envio",
            "entreg", "llego", "chegou", "livr", "colis", "expedi",
        ],
    ),
];

#[rustfmt::skip]
const GENERIC_DESCRIPTIONS: &[&str] = &[
    "any conversation", "every conversation", "all conversations", "always", "jede unterhaltung",
    "jedes gesprach", "immer", "cualquier conversacion", "siempre", "qualquer conversa", "sempre",
    "toute conversation", "toujours",
];

#[rustfmt::skip]
const AFTER_PURCHASE: &[&str] = &[
    "after a purchase", "after the purchase", "after purchase", "after buying", "after an order",
    "after the order", "post purchase", "after sales", "aftersales", "nach dem kauf",
    "nach einem kauf", "nach der bestellung", "nach einer bestellung", "despues de la compra",
    "despues de una compra", "tras la compra", "posventa", "post venta", "apos a compra",
    "depois da compra", "apos uma compra", "pos venda", "apres l'achat", "apres un achat",
    "apres la commande", "apres vente",
];

/// Evidence of a completed purchase anywhere in the transcript, either side.
#[rustfmt::skip]
const PURCHASE_DONE: &[&str] = &[
    "bought", "purchased", "ordered", "paid", "order confirmed", "order is confirmed", "delivered",
    "has arrived", "it arrived", "received it", "thanks for your purchase",
    "thank you for your purchase", "gekauft", "bestellt", "bezahlt", "geliefert", "angekommen",
    "compré", "pagué", "pedido confirmado", "entregado", "llegó", "recibí", "recibi", "comprei",
    "paguei", "entregue", "chegou", "recebi", "acheté", "commandé", "payé", "livré", "reçu", "recu",
];

/// Whether `word` is a form of `stem`: it starts with it, or, for a long word, ends with
/// it give or take a two-letter inflection (German compounds put the head noun last:
/// "Beratungstermin", "Anfängerkurs").
fn has_stem(word: &str, stem: &str) -> bool {
    if word.starts_with(stem) {
        return true;
    }
    let (word_len, stem_len) = (word.chars().count(), stem.chars().count());
    if stem_len < 4 || word_len < stem_len + 4 {
        return false;
    }
    let tail: String = word.chars().skip(word_len - stem_len - 2).collect();
    tail.contains(stem)
}

/// The unit a content word stands for: a concept name or the word itself.
fn unit(word: &str) -> String {
    CONCEPTS
        .iter()
        .find(|(_, stems)| stems.iter().any(|s| has_stem(word, s)))
        .map_or_else(|| word.to_owned(), |(name, _)| format!("#{name}"))
}

/// Stems of "order" and of "confirmed": a message with one of each ("your order #4821 is
/// confirmed", "tu pedido está confirmado") is evidence of a completed purchase.
const ORDER_STEMS: &[&str] = &["order", "bestellung", "pedido", "commande", "encomenda"];
const CONFIRMED_STEMS: &[&str] = &["confirmed", "confirmad", "confirmee", "bestatigt"];

fn shows_purchase(line: &TranscriptLine) -> bool {
    let folded = language::words(&language::fold(&line.text));
    let has = |stems: &[&str]| {
        folded
            .iter()
            .any(|w| stems.iter().any(|s| w.starts_with(s)))
    };
    (has(ORDER_STEMS) && has(CONFIRMED_STEMS))
        || clauses(&line.text)
            .iter()
            .filter(|c| !c.question)
            .any(|c| PURCHASE_DONE.iter().any(|p| c.matches(p, true)))
}

fn content_units(text: &str) -> Vec<String> {
    // Idioms whose words would otherwise look like concepts ("course", "order", "cours").
    let folded = language::fold(text)
        .replace("of course", " ")
        .replace("in order to", " ")
        .replace("en cours", " ");
    let stop: Vec<String> = STOP_WORDS.iter().map(|w| language::fold(w)).collect();
    let mut units: Vec<String> = language::words(&folded)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !stop.contains(w))
        .map(|w| unit(&w))
        .collect();
    units.sort();
    units.dedup();
    units
}

/// Prefix stemming: words of four or more letters meet when they share their first five
/// letters (or all of the shorter one, if it has four); shorter words must be equal.
fn units_meet(a: &str, b: &str) -> bool {
    if a.starts_with('#') || b.starts_with('#') {
        return a == b;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let shorter = la.min(lb);
    if shorter < 4 {
        return a == b;
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= shorter.min(5)
}

/// What the description rules saw (features of the model).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppliesFacts {
    pub applies: bool,
    pub generic: bool,
    pub after_purchase: bool,
    pub purchase_shown: bool,
    pub shared_units: usize,
}

pub(crate) fn applies_facts(request: &JudgeRequest) -> AppliesFacts {
    let description = request.follow_up.description.as_str();
    let folded = format!(
        " {} ",
        language::words(&language::fold(description)).join(" ")
    );
    let described = content_units(description);
    let generic = described.is_empty()
        || GENERIC_DESCRIPTIONS
            .iter()
            .any(|g| folded.contains(&format!(" {g} ")));
    let after_purchase = AFTER_PURCHASE
        .iter()
        .any(|p| folded.contains(&format!(" {p} ")));
    let purchase_shown = request.transcript.iter().any(shows_purchase);
    let conversation: Vec<String> = {
        let all: Vec<&str> = request.transcript.iter().map(|l| l.text.as_str()).collect();
        content_units(&all.join("\n"))
    };
    let shared_units = described
        .iter()
        .filter(|d| conversation.iter().any(|c| units_meet(d, c)))
        .count();
    AppliesFacts {
        applies: description_applies(request).0,
        generic,
        after_purchase,
        purchase_shown,
        shared_units,
    }
}

fn description_applies(request: &JudgeRequest) -> (bool, String) {
    let description = request.follow_up.description.as_str();
    let folded = format!(
        " {} ",
        language::words(&language::fold(description)).join(" ")
    );
    let described = content_units(description);
    if described.is_empty()
        || GENERIC_DESCRIPTIONS
            .iter()
            .any(|g| folded.contains(&format!(" {g} ")))
    {
        return (
            true,
            "keyword heuristic: the description is generic".to_owned(),
        );
    }
    let conversation: Vec<String> = {
        let all: Vec<&str> = request.transcript.iter().map(|l| l.text.as_str()).collect();
        content_units(&all.join("\n"))
    };
    if AFTER_PURCHASE
        .iter()
        .any(|p| folded.contains(&format!(" {p} ")))
    {
        return if request.transcript.iter().any(shows_purchase) {
            (
                true,
                "keyword heuristic: the description is for after a purchase and the \
                 conversation shows one"
                    .to_owned(),
            )
        } else {
            (
                false,
                "keyword heuristic: the description is for after a purchase and the \
                 conversation shows none"
                    .to_owned(),
            )
        };
    }
    let shared = described
        .iter()
        .filter(|d| conversation.iter().any(|c| units_meet(d, c)))
        .count();
    if shared >= 1 {
        (
            true,
            format!(
                "keyword heuristic: {shared} content word(s) of the description occur in the conversation"
            ),
        )
    } else {
        (
            false,
            "keyword heuristic: the conversation shares no content word with the description"
                .to_owned(),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Timing and text.

fn timing(request: &JudgeRequest) -> Option<Timestamp> {
    let target = request
        .last_customer_message
        .plus_minutes(AI_DELAY_MINUTES)
        .min(request.latest_send_at);
    (target > request.now).then_some(target)
}

/// (full text, short text) per language.
fn templates(language: Language) -> (&'static str, &'static str) {
    match language {
        Language::En => (
            "Hi! Just following up on our conversation. Is there anything else I can help you with?",
            "Hi! Can I help with anything else?",
        ),
        Language::De => (
            "Hallo! Ich wollte kurz an unser Gespräch anknüpfen. Kann ich Ihnen noch bei etwas helfen?",
            "Hallo! Kann ich noch helfen?",
        ),
        Language::Es => (
            "¡Hola! Quería retomar nuestra conversación. ¿Hay algo más en lo que pueda ayudarte?",
            "¡Hola! ¿Puedo ayudarte en algo más?",
        ),
        Language::Pt => (
            "Olá! Queria retomar a nossa conversa. Posso ajudar em mais alguma coisa?",
            "Olá! Posso ajudar em algo mais?",
        ),
        Language::Fr => (
            "Bonjour ! Je reviens vers vous suite à notre échange. Puis-je vous aider avec autre chose ?",
            "Bonjour ! Puis-je vous aider ?",
        ),
        Language::It => (
            "Ciao! Riprendo la nostra conversazione. Posso aiutarti con qualcos'altro?",
            "Ciao! Posso aiutarti?",
        ),
        Language::Nl => (
            "Hallo! Ik kom even terug op ons gesprek. Kan ik je ergens anders mee helpen?",
            "Hallo! Kan ik je nog helpen?",
        ),
        Language::Tr => (
            "Merhaba! Görüşmemize geri dönmek istedim. Size başka bir konuda yardımcı olabilir miyim?",
            "Merhaba! Yardımcı olabilir miyim?",
        ),
    }
}

/// The conversation's language, guessed from the customer's messages (latest first).
pub(crate) fn conversation_language(transcript: &[TranscriptLine]) -> Language {
    let customer: Vec<&str> = transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Customer)
        .map(|l| l.text.as_str())
        .collect();
    customer
        .last()
        .and_then(|last| language::detect_confidently(last))
        .or_else(|| language::guess(&customer.join("\n")))
        .or_else(|| {
            let all: Vec<&str> = transcript.iter().map(|l| l.text.as_str()).collect();
            language::guess(&all.join("\n"))
        })
        .unwrap_or(Language::En)
}

fn text(request: &JudgeRequest) -> Result<String, JudgeError> {
    let max = request.max_text_chars;
    if max == 0 {
        return Err(JudgeError::InvalidAnswer(
            "max_text_chars is 0: no text can be written".to_owned(),
        ));
    }
    let (full, short) = templates(conversation_language(&request.transcript));
    let chosen = [full, short]
        .into_iter()
        .find(|t| t.chars().count() <= max)
        .map_or_else(|| short.chars().take(max).collect(), str::to_owned);
    Ok(chosen)
}

#[cfg(test)]
#[path = "offline_tests.rs"]
mod tests;
