use followup_domain::Timestamp;
use followup_ports::JudgeRequest;

use super::*;
use crate::test_support::*;

fn decide(request: &JudgeRequest) -> JudgeVerdict {
    OfflineJudge::rules_only().decide(request).expect("verdict")
}

fn appointment_with_reply(reply: &str) -> JudgeRequest {
    request()
        .customer(300, "Hi, can I book an appointment for next week?")
        .business(299, "Sure, Tuesday 10:00 or Thursday 15:00?")
        .customer(250, reply)
        .build()
}

#[test]
fn when_a_customer_declines_or_confirms_in_any_of_five_languages_then_the_stop_trigger_is_met() {
    let replies = [
        // en
        "STOP",
        "No thanks",
        "No, thanks.",
        "I'm not interested",
        "Already booked it elsewhere, I booked yesterday",
        "Confirmed, Thursday it is.",
        "Please cancel it",
        "unsubscribe",
        // de
        "Nein danke",
        "Ich habe kein Interesse mehr.",
        "Bitte abmelden",
        "Donnerstag, bestätigt!",
        "Ich möchte den Termin absagen",
        // es
        "No gracias",
        "Ya reservé, gracias",
        "Quiero cancelar",
        "No me interesa",
        // pt
        "Não obrigado",
        "Nao, obrigada",
        "Já marquei com outro lugar",
        "Quero cancelar",
        // fr
        "Non merci",
        "Je ne suis pas intéressé",
        "Je ne suis plus intéressée",
        "Je confirme pour jeudi",
        "Je voudrais annuler",
    ];
    for reply in replies {
        let verdict = decide(&appointment_with_reply(reply));
        assert!(verdict.stop_trigger_met, "{reply:?} should stop");
        assert_eq!(
            verdict.message_text, None,
            "{reply:?}: no text once stopped"
        );
    }
}

#[test]
fn when_a_customer_only_asks_or_negates_then_the_stop_trigger_is_not_met() {
    let replies = [
        "Can I cancel later if something comes up?",
        "¿Puedo cancelar después?",
        "I haven't booked yet, let me check my calendar",
        "Ich habe noch nicht gebucht",
        "Je n'ai pas encore réservé",
        "Let me check my schedule and get back to you",
        "Thanks, I'll think about it",
    ];
    for reply in replies {
        let verdict = decide(&appointment_with_reply(reply));
        assert!(!verdict.stop_trigger_met, "{reply:?} should not stop");
    }
}

#[test]
fn when_the_stop_trigger_mentions_thanks_then_a_thank_you_closing_stops() {
    let after_sales = |reply: &str, trigger: &str| {
        request()
            .description("After a purchase, to make sure the customer is satisfied")
            .trigger(trigger)
            .customer(1600, "I just paid for the standing desk")
            .business(1598, "Thank you! Your order is confirmed.")
            .customer(1500, reply)
            .build()
    };
    let with_thanks = "Customer confirms satisfaction, reports a problem or says thanks";
    for reply in [
        "Thanks a lot!",
        "Danke!",
        "¡Muchas gracias!",
        "Valeu, obrigada!",
        "Merci !",
    ] {
        assert!(
            decide(&after_sales(reply, with_thanks)).stop_trigger_met,
            "{reply:?}"
        );
    }
    assert!(
        !decide(&after_sales("Thanks! When will it arrive?", with_thanks)).stop_trigger_met,
        "thanks followed by a question keeps the conversation open"
    );
    assert!(
        !decide(&after_sales("Thanks a lot!", "Customer reports a problem")).stop_trigger_met,
        "thanks only counts when the stop trigger mentions it"
    );
    assert!(decide(&after_sales("It's broken, the clip snapped", with_thanks)).stop_trigger_met);
}

#[test]
fn when_a_purchase_is_reported_then_only_a_purchase_related_trigger_stops() {
    let conversation = |trigger: &str, description: &str| {
        request()
            .description(description)
            .trigger(trigger)
            .customer(200, "The hoodie in my cart, is it in stock?")
            .business(199, "Yes, 3 left!")
            .customer(150, "Great, just ordered it")
            .build()
    };
    let cart = conversation(
        "Customer completed the purchase or said they are not interested",
        "Customer added products to the cart but did not complete the purchase",
    );
    assert!(decide(&cart).stop_trigger_met);
    let after_sales = conversation(
        "Customer confirms satisfaction or reports a problem",
        "After a purchase, to make sure the customer is satisfied",
    );
    let verdict = decide(&after_sales);
    assert!(!verdict.stop_trigger_met);
    assert!(verdict.description_applies);
}

#[test]
fn when_the_business_hands_the_conversation_over_then_the_stop_trigger_is_met() {
    let request = request()
        .customer(300, "I need help with accessibility before I book")
        .business(299, "Of course, a colleague will contact you today.")
        .build();
    let verdict = decide(&request);
    assert!(verdict.stop_trigger_met);
    assert!(verdict.stop_reason.contains("keyword heuristic"));
}

#[test]
fn when_the_conversation_shares_words_or_concepts_with_the_description_then_it_applies() {
    let english_description_german_chat = request()
        .customer(300, "Ich hätte gern einen Beratungstermin")
        .business(299, "Montag 11:00 oder Mittwoch 17:30?")
        .customer(250, "Ich melde mich noch")
        .build();
    assert!(decide(&english_description_german_chat).description_applies);

    let unrelated = request()
        .customer(300, "What are your opening hours on Sunday?")
        .business(299, "10:00 to 16:00.")
        .build();
    assert!(!decide(&unrelated).description_applies);

    let generic = request()
        .description("Any conversation where the customer stopped answering")
        .customer(300, "Do you sell gift cards?")
        .build();
    assert!(decide(&generic).description_applies);
}

#[test]
fn when_an_after_sales_description_meets_a_conversation_without_purchase_then_it_does_not_apply() {
    for (description, reply) in [
        (
            "After a purchase, to make sure the customer is satisfied",
            "How much is the coffee grinder?",
        ),
        (
            "Nach einem Kauf, um sicherzugehen, dass der Kunde zufrieden ist",
            "Haben Sie die Jacke in Größe L?",
        ),
        (
            "Después de una compra, para asegurarnos de que el cliente está satisfecho",
            "¿Hacen envíos a Canarias?",
        ),
    ] {
        let request = request()
            .description(description)
            .customer(1500, reply)
            .business(1499, "Yes.")
            .build();
        let verdict = decide(&request);
        assert!(!verdict.description_applies, "{description:?}");
        assert_eq!(verdict.message_text, None);
    }
}

#[test]
fn when_the_delay_is_ai_and_two_hours_passed_then_the_judge_sends_now() {
    let request = request()
        .ai_delay()
        .description("Any conversation")
        .customer(180, "Tuesday maybe?")
        .build();
    assert_eq!(decide(&request).wait_until, None);
}

#[test]
fn when_the_delay_is_ai_and_the_customer_wrote_recently_then_the_judge_waits_two_hours_after() {
    let request = request()
        .ai_delay()
        .description("Any conversation")
        .customer(30, "Tuesday maybe?")
        .build();
    assert_eq!(
        decide(&request).wait_until,
        Some(minutes_ago(30).plus_minutes(120))
    );
}

#[test]
fn when_the_window_ends_before_two_hours_then_the_wait_is_bounded_by_latest_send_at() {
    let latest = NOW.plus_minutes(45);
    let request = request()
        .ai_delay()
        .description("Any conversation")
        .customer(10, "Tuesday maybe?")
        .latest_send_at(latest)
        .build();
    assert_eq!(decide(&request).wait_until, Some(latest));

    let closed = request_with_latest(minutes_ago(1));
    assert_eq!(
        decide(&closed).wait_until,
        None,
        "never waits into the past"
    );
}

fn request_with_latest(latest: Timestamp) -> JudgeRequest {
    request()
        .ai_delay()
        .description("Any conversation")
        .customer(10, "Tuesday maybe?")
        .latest_send_at(latest)
        .build()
}

#[test]
fn when_the_delay_is_manual_then_the_judge_never_picks_a_time() {
    let request = request()
        .description("Any conversation")
        .customer(10, "Tuesday maybe?")
        .build();
    let verdict = decide(&request);
    assert!(verdict.description_applies);
    assert_eq!(verdict.wait_until, None);
}

#[test]
fn when_the_judge_writes_the_text_then_it_is_in_the_conversations_language_and_within_limits() {
    let cases = [
        ("Hi, can I book a table for Friday?", "Hi!"),
        ("Hallo, kann ich einen Termin für Freitag buchen?", "Hallo!"),
        ("Hola, ¿puedo reservar una cita para el viernes?", "¡Hola!"),
        ("Olá, posso agendar um horário para sexta?", "Olá!"),
        ("Bonjour, je voudrais un rendez-vous vendredi", "Bonjour !"),
    ];
    for (message, greeting) in cases {
        for max in [1000, 40, 10, 1] {
            let request = request()
                .description("Any conversation")
                .customer(300, message)
                .max_chars(max)
                .build();
            let text = decide(&request).message_text.expect("a text");
            assert!(!text.trim().is_empty());
            assert!(text.chars().count() <= max, "{text:?} over {max}");
            if max >= 40 {
                assert!(text.starts_with(greeting), "{text:?} for {message:?}");
            }
        }
    }
}

#[test]
fn when_the_message_is_custom_then_the_judge_writes_no_text() {
    let request = request()
        .custom_message()
        .customer(300, "Can I book for Friday?")
        .build();
    assert_eq!(decide(&request).message_text, None);
}

#[test]
fn when_no_text_fits_then_the_offline_judge_reports_an_invalid_request() {
    let request = request()
        .customer(300, "Can I book for Friday?")
        .max_chars(0)
        .build();
    assert!(matches!(
        OfflineJudge::rules_only().decide(&request),
        Err(JudgeError::InvalidAnswer(_))
    ));
}

#[test]
fn when_asked_twice_then_the_offline_judge_answers_the_same() {
    let request = request()
        .ai_delay()
        .customer(300, "Hallo, kann ich einen Termin buchen?")
        .business(299, "Dienstag oder Donnerstag?")
        .customer(20, "Ich schaue noch")
        .build();
    let first = decide(&request);
    for _ in 0..5 {
        assert_eq!(decide(&request), first);
    }
}

#[test]
fn when_described_then_the_offline_judge_says_it_is_not_an_llm() {
    assert!(DESCRIPTION.contains("not an LLM"));
    assert!(DESCRIPTION.contains("heuristic"));
}

// ---------------------------------------------------------------------------------------
// The classifier on top of the rules.

fn classify(request: &JudgeRequest) -> JudgeVerdict {
    OfflineJudge::new().decide(request).expect("verdict")
}

#[test]
fn when_the_model_file_is_checked_in_then_it_parses_with_ordered_thresholds() {
    let model = crate::model::embedded().expect("the checked-in model parses");
    let t = model.thresholds;
    assert!(
        0.0 < t.unsure && t.unsure <= t.stop && t.stop < 1.0,
        "{t:?}"
    );
    assert!(model.stop.size() > 0 && model.applies.size() > 0);
}

#[test]
fn when_a_customer_clearly_declines_or_books_then_the_classifier_stops_or_holds() {
    for reply in [
        "No thanks, I found another dentist closer to home.",
        "Perfect, Thursday 15:00 works, see you then!",
        "Please stop messaging me.",
    ] {
        let verdict = classify(&appointment_with_reply(reply));
        assert!(
            verdict.stop_trigger_met || verdict.unsure.is_some(),
            "{reply}: {verdict:?}"
        );
        assert_eq!(verdict.message_text, None, "{reply}: nothing to send");
    }
}

#[test]
fn when_the_classifier_is_unsure_then_the_verdict_says_why_and_writes_no_text() {
    let verdict = classify(&appointment_with_reply("hmm"));
    if let Some(reason) = &verdict.unsure {
        assert!(reason.contains("unsure band"), "{reason}");
        assert_eq!(verdict.message_text, None);
    }
    assert!(
        verdict
            .stop_reason
            .starts_with("classifier: stop probability ")
    );
}
