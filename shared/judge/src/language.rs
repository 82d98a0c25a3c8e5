//! Small, deterministic text helpers shared by the judges: word splitting, accent
//! folding, a stop-word language guesser for the eight languages the service is tested in
//! (en, de, es, pt, fr, it, nl, tr), and URL spotting.
//!
//! The language guess is deliberately simple: it counts words that are frequent in one
//! language and rare in the others (articles, pronouns, "thanks", "hello", …) plus a few
//! letters only one language uses (`ß`, `ñ`, `¿`, `ã`, …). It is good enough to pick the
//! template language of the offline judge and to catch a model answering in a different
//! language than the customer wrote in; it is not a general language identifier, and it
//! says "unknown" rather than guess on short or mixed text.

/// The languages the judges know by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    En,
    De,
    Es,
    Pt,
    Fr,
    It,
    Nl,
    Tr,
}

impl Language {
    pub const ALL: [Self; 8] = [
        Self::En,
        Self::De,
        Self::Es,
        Self::Pt,
        Self::Fr,
        Self::It,
        Self::Nl,
        Self::Tr,
    ];

    /// The ISO 639-1 code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Es => "es",
            Self::Pt => "pt",
            Self::Fr => "fr",
            Self::It => "it",
            Self::Nl => "nl",
            Self::Tr => "tr",
        }
    }

    /// Parses an ISO 639-1 code, also accepting a region or script suffix (`pt-BR`,
    /// `es_419`) and any case. `None` for a language not in [`Language::ALL`].
    pub fn from_code(raw: &str) -> Option<Self> {
        let primary = raw
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.code() == primary)
    }

    fn markers(self) -> &'static [&'static str] {
        match self {
            Self::En => EN_MARKERS,
            Self::De => DE_MARKERS,
            Self::Es => ES_MARKERS,
            Self::Pt => PT_MARKERS,
            Self::Fr => FR_MARKERS,
            Self::It => IT_MARKERS,
            Self::Nl => NL_MARKERS,
            Self::Tr => TR_MARKERS,
        }
    }

    fn letters(self) -> &'static [char] {
        match self {
            Self::En => &[],
            Self::De => &['ß', 'ä', 'ö', 'ü'],
            Self::Es => &['ñ', '¿', '¡'],
            Self::Pt => &['ã', 'õ'],
            Self::Fr => &['è', 'ù', 'œ', 'ë', 'î'],
            Self::It => &[],
            Self::Nl => &['ĳ'],
            Self::Tr => &['ı', 'ğ', 'ş', 'İ'],
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

// Words frequent in one language and rare in the other seven. Words shared by two of them
// ("de", "que", "la", "me", "no", "mais", "es", "die", …) are left out on purpose.
#[rustfmt::skip]
const EN_MARKERS: &[&str] = &[
    "the", "and", "you", "your", "is", "are", "to", "for", "with", "have", "this", "that", "what",
    "would", "thanks", "thank", "please", "yes", "not", "can", "will", "my", "it", "i", "hi",
    "hello", "want", "just", "of", "we", "our", "how", "when", "tomorrow", "don't", "im", "i'm",
    "it's", "anymore", "already", "got", "be", "any", "some", "there",
];
#[rustfmt::skip]
const DE_MARKERS: &[&str] = &[
    "der", "das", "und", "ich", "sie", "nicht", "ist", "ein", "eine", "mit", "für", "auf", "danke",
    "bitte", "ja", "nein", "kein", "keine", "haben", "habe", "wir", "mein", "meine", "schon",
    "noch", "gerne", "gern", "morgen", "hallo", "guten", "wie", "können", "möchte", "interesse",
    "ihnen", "mir", "uns", "den", "dem", "bei", "zu", "vielen", "aber", "auch", "wann", "heute",
    "bin", "sind", "gibt", "doch",
];
#[rustfmt::skip]
const ES_MARKERS: &[&str] = &[
    "el", "los", "las", "y", "gracias", "hola", "quiero", "tengo", "pero", "muy", "estoy", "sí",
    "también", "mañana", "reservé", "usted", "puedo", "cuánto", "hay", "del", "ya", "una", "lo",
    "mi", "gustaría", "necesito", "ahora", "bueno", "cuando", "hasta", "todavía", "compré",
    "interesa", "muchas", "ustedes",
];
#[rustfmt::skip]
const PT_MARKERS: &[&str] = &[
    "não", "obrigado", "obrigada", "olá", "oi", "você", "vocês", "com", "é", "estou", "quero",
    "tenho", "mas", "muito", "também", "amanhã", "já", "sim", "isso", "pra", "ao", "meu", "minha",
    "tudo", "gostaria", "pode", "uma", "os", "essa", "esse", "agora", "ainda", "comprei",
    "preciso", "bom", "obg", "vou",
];
#[rustfmt::skip]
const FR_MARKERS: &[&str] = &[
    "le", "les", "et", "je", "vous", "nous", "est", "pas", "merci", "bonjour", "avec", "pour",
    "oui", "non", "c'est", "suis", "mon", "ma", "mes", "ai", "déjà", "demain", "bien", "très",
    "ce", "cette", "il", "elle", "ne", "j'ai", "d'accord", "au", "aux", "votre", "vos", "j", "qu",
    "n'ai", "je", "ça", "salut", "besoin", "encore",
];
#[rustfmt::skip]
const IT_MARKERS: &[&str] = &[
    "gli", "sono", "grazie", "ciao", "buongiorno", "voglio", "ho", "abbiamo", "della", "nel",
    "per", "che", "anche", "domani", "già", "mio", "vorrei", "posso", "quanto", "costa",
    "ancora", "adesso", "bene", "molto", "perché", "prenotato", "appuntamento", "comprato",
    "più", "questo", "questa", "allora", "niente", "sarebbe", "potete", "avete", "vediamo",
    "sei", "siamo",
];
#[rustfmt::skip]
const NL_MARKERS: &[&str] = &[
    "het", "een", "ik", "jij", "niet", "wel", "zijn", "bedankt", "dank", "hoi", "graag", "nog",
    "geen", "heb", "hebben", "wil", "kunnen", "mijn", "wij", "ons", "voor", "met", "van", "maar",
    "ook", "wanneer", "hoeveel", "afspraak", "geboekt", "gekocht", "alvast", "misschien",
    "jullie", "toch", "klopt", "jouw", "uw", "bent", "zou", "moet", "vandaag",
];
#[rustfmt::skip]
const TR_MARKERS: &[&str] = &[
    "merhaba", "teşekkürler", "teşekkür", "ederim", "sağol", "sağolun", "evet", "hayır",
    "bir", "bu", "ve", "ama", "için", "ile", "ben", "biz", "siz", "var", "yok", "mı", "mü",
    "kadar", "yarın", "bugün", "randevu", "istiyorum", "istemiyorum",
    "lütfen", "tamam", "aldım", "şimdi", "daha", "çok", "iyi", "günler", "olur", "değil",
];

/// Lowercased words of `text`: letters, digits and inner apostrophes (`don't`, `j'ai`).
/// Curly apostrophes are folded to `'`.
pub fn words(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase().replace(['’', '`', '´'], "'");
    lowered
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Lowercase and strip the accents of Latin letters (`é` → `e`, `ß` → `ss`), so phrase
/// lists match whether or not a customer typed the accents.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'ß' => out.push_str("ss"),
            'ı' => out.push('i'),
            'ğ' => out.push('g'),
            'ş' => out.push('s'),
            'œ' => out.push_str("oe"),
            '’' | '`' | '´' => out.push('\''),
            other => out.push(other),
        }
    }
    out
}

/// Per-language marker counts for `text`, in [`Language::ALL`] order.
fn scores(text: &str) -> [usize; 8] {
    let words = words(text);
    let lowered = text.to_lowercase();
    Language::ALL.map(|language| {
        let by_word = words
            .iter()
            .filter(|w| {
                language.markers().contains(&w.as_str())
                    // "j'ai" also counts as "j" + "ai" in French; "don't" stays whole.
                    || w.split('\'').any(|part| {
                        !part.is_empty() && part != w.as_str() && language.markers().contains(&part)
                    })
            })
            .count();
        let by_letter = language
            .letters()
            .iter()
            .filter(|c| lowered.contains(**c))
            .count();
        by_word + 2 * by_letter
    })
}

/// The most likely language of `text`, or `None` when nothing points anywhere.
/// Ties go to the earlier language in [`Language::ALL`] (so the result is deterministic).
pub fn guess(text: &str) -> Option<Language> {
    let scores = scores(text);
    let (best, score) = best_two(&scores).0;
    (score > 0).then_some(best)
}

/// The language of `text` only when the evidence is clear: at least two markers and at
/// least twice as many as the runner-up. Used to reject a model's answer, so it would
/// rather say `None` than be wrong.
pub fn detect_confidently(text: &str) -> Option<Language> {
    let scores = scores(text);
    let ((best, score), (_, second)) = best_two(&scores);
    (score >= 2 && score >= 2 * second.max(1) && score > second).then_some(best)
}

fn best_two(scores: &[usize; 8]) -> ((Language, usize), (Language, usize)) {
    let mut ranked: Vec<(Language, usize)> = Language::ALL.into_iter().zip(*scores).collect();
    // Stable sort: equal scores keep the order of Language::ALL.
    ranked.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    (ranked[0], ranked[1])
}

/// URL-like tokens in `text`, lowercased, without a trailing punctuation mark: anything
/// with a scheme (`https://…`, `ftp://…`), starting with `www.`, or a bare domain whose
/// last label is a common top-level domain (`example.com/x`, `bit.ly/abc`).
pub fn urls(text: &str) -> Vec<String> {
    const TLDS: &[&str] = &[
        "com", "net", "org", "io", "ly", "co", "de", "es", "fr", "pt", "br", "me", "app", "link",
        "info", "biz", "xyz", "shop", "store", "online", "site", "eu", "uk", "us", "mx", "ar",
        "at", "ch", "be", "gl", "gg", "to", "tk", "click",
    ];
    text.split_whitespace()
        .map(|token| {
            token
                .trim_start_matches(['(', '[', '<', '"', '\'', '«'])
                .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '>', '"', '\'', '»'])
                .to_lowercase()
        })
        .filter(|token| {
            if token.contains("://") || token.starts_with("www.") {
                return true;
            }
            let host = token.split(['/', '?', '#']).next().unwrap_or_default();
            let labels: Vec<&str> = host.split('.').collect();
            labels.len() >= 2
                && labels.iter().all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                && labels.last().is_some_and(|tld| TLDS.contains(tld))
        })
        .collect()
}

/// A URL without its scheme and a leading `www.`, for comparing "https://shop.example/x"
/// with "shop.example/x".
pub fn url_core(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    without_scheme
        .strip_prefix("www.")
        .unwrap_or(without_scheme)
        .trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_text_is_clearly_in_one_language_then_it_is_detected() {
        let cases = [
            (
                "Thanks, I already booked the appointment for tomorrow.",
                Language::En,
            ),
            (
                "Danke, ich habe schon einen Termin für morgen.",
                Language::De,
            ),
            ("Gracias, ya reservé la cita para mañana.", Language::Es),
            ("Obrigado, já marquei o horário para amanhã.", Language::Pt),
            (
                "Merci, j'ai déjà réservé le rendez-vous pour demain.",
                Language::Fr,
            ),
            (
                "Grazie, ho già prenotato l'appuntamento per domani.",
                Language::It,
            ),
            (
                "Bedankt, ik heb de afspraak voor morgen al geboekt.",
                Language::Nl,
            ),
            ("Teşekkürler, yarın için randevu aldım.", Language::Tr),
        ];
        for (text, language) in cases {
            assert_eq!(guess(text), Some(language), "{text}");
            assert_eq!(detect_confidently(text), Some(language), "{text}");
        }
    }

    #[test]
    fn when_text_is_too_short_then_confident_detection_says_unknown() {
        assert_eq!(detect_confidently("ok"), None);
        assert_eq!(detect_confidently("👍"), None);
        assert_eq!(guess("12:30"), None);
    }

    #[test]
    fn when_a_code_has_a_region_then_the_language_is_still_known() {
        assert_eq!(Language::from_code("pt-BR"), Some(Language::Pt));
        assert_eq!(Language::from_code("ES_419"), Some(Language::Es));
        assert_eq!(Language::from_code("it"), Some(Language::It));
        assert_eq!(Language::from_code("sv"), None);
    }

    #[test]
    fn when_text_has_links_then_urls_finds_them_without_punctuation() {
        assert_eq!(
            urls("See https://Example.com/a, or www.shop.de. Also bit.ly/x! Not e.g. or 3.5"),
            vec!["https://example.com/a", "www.shop.de", "bit.ly/x"]
        );
        assert_eq!(url_core("https://www.shop.de/"), "shop.de");
    }

    #[test]
    fn when_folding_then_accents_and_eszett_are_removed() {
        assert_eq!(fold("Já RESERVÉ Straße"), "ja reserve strasse");
    }
}
