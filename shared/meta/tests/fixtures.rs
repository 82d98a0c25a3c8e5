//! Every Meta webhook fixture in `tests/fixtures/meta`, parsed into the exact events the
//! service acts on. The fixtures' README says what each one is and why.

use followup_domain::{
    Platform, TemplateCategory, TemplateCategoryChange, TemplateStatus, TemplateStatusChange,
    Timestamp,
};
use followup_meta::{
    BusinessEcho, CustomerMessage, DeliveryStatus, IgnoreReason, InboundEvent, MessageKind,
    ParseError, StatusKind, parse_webhook, sign, verify_signature,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/meta/");

const WA_PHONE_NUMBER_ID: &str = "106540352242922";
const KERRY: &str = "16315551181";
const DANA: &str = "16315559876";
const RAFAELA_BSUID: &str = "BR.1502576394655843";
const FOLLOW_UP_WAMID: &str = "wamid.HBgLMTYzMTU1NTExODEVAgARGBI1RUE4NUYxQTRCNDkyRDQxNDgA";
const LIST_MESSAGE_WAMID: &str = "wamid.HBgLMTYzMTU1NTExODEVAgARGBJDQTVEQkM5OEY4MjlEQjJFQ0QA";

const PAGE: &str = "1122334455667788";
const PSID: &str = "6543210987654321";
const PSID2: &str = "7766554433221100";
const PAGE_ECHO_MID: &str =
    "m_q9qXxYsoYNicxAtif8Torx7yRxPfWWlh_AE5_6uMHob4ssTRz9VTKwKELbM1FMwUaMQ9STEBmqsc-DFXGu0evm";
const OUR_APP_ID: &str = "880011223344556";

const IG_ACCOUNT: &str = "17841400000000001";
const IGSID: &str = "5566778899001122";
const IGSID2: &str = "5566778899003344";
const IG_ECHO_MID: &str = "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDM5NjEzODYwMDU5ODE0NTAzODUxODk3NTozMDE1MTM2ODc1ODMyMzA1NTk0NjAyODE4MTA4MzUyNTQ3ODMwMA";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn events(name: &str) -> Vec<InboundEvent> {
    parse_webhook(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn whatsapp(
    customer: &str,
    message_id: &str,
    secs: i64,
    kind: MessageKind,
    text: Option<&str>,
    profile_name: &str,
) -> InboundEvent {
    InboundEvent::CustomerMessage(CustomerMessage {
        platform: Platform::Whatsapp,
        business_account_id: WA_PHONE_NUMBER_ID.to_owned(),
        customer_id: customer.to_owned(),
        message_id: message_id.to_owned(),
        sent_at: Timestamp::from_secs(secs),
        kind,
        text: text.map(str::to_owned),
        profile_name: Some(profile_name.to_owned()),
        standby: false,
    })
}

fn kerry(message_id: &str, secs: i64, kind: MessageKind, text: Option<&str>) -> InboundEvent {
    whatsapp(KERRY, message_id, secs, kind, text, "Kerry Fisher")
}

fn status(
    message_id: &str,
    kind: StatusKind,
    secs: i64,
    callback_data: Option<&str>,
    error_codes: Vec<i64>,
) -> InboundEvent {
    InboundEvent::DeliveryStatus(DeliveryStatus {
        business_account_id: WA_PHONE_NUMBER_ID.to_owned(),
        message_id: message_id.to_owned(),
        customer_id: Some(KERRY.to_owned()),
        status: kind,
        at: Timestamp::from_secs(secs),
        callback_data: callback_data.map(str::to_owned),
        error_codes,
    })
}

fn customer(
    platform: Platform,
    business: &str,
    customer: &str,
    message_id: &str,
    millis: i64,
    kind: MessageKind,
    text: Option<&str>,
) -> InboundEvent {
    InboundEvent::CustomerMessage(CustomerMessage {
        platform,
        business_account_id: business.to_owned(),
        customer_id: customer.to_owned(),
        message_id: message_id.to_owned(),
        sent_at: Timestamp::from_millis(millis),
        kind,
        text: text.map(str::to_owned),
        profile_name: None,
        standby: false,
    })
}

fn messenger(
    psid: &str,
    message_id: &str,
    millis: i64,
    kind: MessageKind,
    text: Option<&str>,
) -> InboundEvent {
    customer(
        Platform::Messenger,
        PAGE,
        psid,
        message_id,
        millis,
        kind,
        text,
    )
}

fn instagram(
    igsid: &str,
    message_id: &str,
    millis: i64,
    kind: MessageKind,
    text: Option<&str>,
) -> InboundEvent {
    customer(
        Platform::Instagram,
        IG_ACCOUNT,
        igsid,
        message_id,
        millis,
        kind,
        text,
    )
}

fn echo(
    platform: Platform,
    business: &str,
    customer: &str,
    message_id: &str,
    millis: i64,
    text: &str,
    app_id: Option<&str>,
) -> InboundEvent {
    InboundEvent::BusinessEcho(BusinessEcho {
        platform,
        business_account_id: business.to_owned(),
        customer_id: customer.to_owned(),
        message_id: message_id.to_owned(),
        sent_at: Timestamp::from_millis(millis),
        text: Some(text.to_owned()),
        app_id: app_id.map(str::to_owned),
    })
}

fn ignored(platform: Platform, reason: IgnoreReason) -> InboundEvent {
    InboundEvent::Ignored {
        platform: Some(platform),
        reason,
    }
}

// ---------------------------------------------------------------------------------------
// WhatsApp

#[test]
fn when_whatsapp_text_then_one_customer_text_keyed_by_wa_id() {
    assert_eq!(
        events("whatsapp-text.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ4QTREMUVBN0VFQjYzRDRGRjIzMgA=",
            1_763_971_200,
            MessageKind::Text,
            Some("Hi! Do you still have the blue running shoes in size 42?"),
        )]
    );
}

#[test]
fn when_whatsapp_text_with_user_id_then_the_same_customer_as_by_phone() {
    assert_eq!(
        events("whatsapp-text-with-user-id.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBQwNDg2MjMxNkFBOEMxMjI3NUM5NwA=",
            1_763_971_230,
            MessageKind::Text,
            Some("Also, how long does shipping to Long Island take?"),
        )]
    );
}

#[test]
fn when_whatsapp_image_then_media_with_its_caption() {
    assert_eq!(
        events("whatsapp-image.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ2QTk1RjQ5MUU4MzlFOTI3NDJDNgA=",
            1_763_971_260,
            MessageKind::Media,
            Some("These ones, but in blue"),
        )]
    );
}

#[test]
fn when_whatsapp_location_then_location_without_text() {
    assert_eq!(
        events("whatsapp-location.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBRCRkE1OENGMTcwRUMxNEM2OEUzQwA=",
            1_763_971_320,
            MessageKind::Location,
            None,
        )]
    );
}

#[test]
fn when_whatsapp_interactive_button_reply_then_interactive_with_button_title() {
    assert_eq!(
        events("whatsapp-interactive-button-reply.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBQyNkY1QTExMkJGOEYyRkVERUM1NAA=",
            1_763_971_380,
            MessageKind::Interactive,
            Some("Tue 3:00 PM"),
        )]
    );
}

#[test]
fn when_whatsapp_interactive_list_reply_then_interactive_with_row_title() {
    assert_eq!(
        events("whatsapp-interactive-list-reply.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBRGNUVBNTU5RjY5RjE3RjExRUIzOQA=",
            1_763_971_440,
            MessageKind::Interactive,
            Some("Size 42"),
        )]
    );
}

#[test]
fn when_whatsapp_reaction_then_reaction_with_its_emoji() {
    assert_eq!(
        events("whatsapp-reaction.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBRBQzQ5MTkzRjg4MDkyQzE1RDcyMwA=",
            1_763_986_020,
            MessageKind::Reaction,
            Some("\u{1f44d}"),
        )]
    );
}

#[test]
fn when_whatsapp_unknown_type_then_other_interaction_keeping_id_sender_and_time() {
    assert_eq!(
        events("whatsapp-unknown-type.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ3RTk3NjA3RTFGRTQ2NkYwQTI3NwA=",
            1_763_971_560,
            MessageKind::Other("unsupported_future_type".to_owned()),
            None,
        )]
    );
}

#[test]
fn when_whatsapp_unsupported_then_other_interaction() {
    assert_eq!(
        events("whatsapp-unsupported.json"),
        [kerry(
            "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ0OEUxMTRBN0ExODQwRjFFRTlFQQA=",
            1_763_971_620,
            MessageKind::Other("unsupported".to_owned()),
            None,
        )]
    );
}

#[test]
fn when_whatsapp_bsuid_only_user_then_customer_keyed_by_user_id() {
    assert_eq!(
        events("whatsapp-bsuid-only-user.json"),
        [whatsapp(
            RAFAELA_BSUID,
            "wamid.HBgTQlIuMTUwMjU3NjM5NDY1NTg0MxUCABIYFDM2NkIxQzY4ODIyNzdDMkZDRkRFAA==",
            1_763_971_680,
            MessageKind::Text,
            Some("Hi, do you ship to Brazil?"),
            "Rafaela Costa",
        )]
    );
}

#[test]
fn when_whatsapp_status_sent_then_sent_status_with_callback_data() {
    assert_eq!(
        events("whatsapp-status-sent.json"),
        [status(
            FOLLOW_UP_WAMID,
            StatusKind::Sent,
            1_763_985_600,
            Some("dlv_01J0000000000000000000000"),
            vec![],
        )]
    );
}

#[test]
fn when_whatsapp_status_delivered_then_delivered_status() {
    assert_eq!(
        events("whatsapp-status-delivered.json"),
        [status(
            FOLLOW_UP_WAMID,
            StatusKind::Delivered,
            1_763_985_602,
            Some("dlv_01J0000000000000000000000"),
            vec![],
        )]
    );
}

#[test]
fn when_whatsapp_status_read_then_read_status() {
    assert_eq!(
        events("whatsapp-status-read.json"),
        [status(
            FOLLOW_UP_WAMID,
            StatusKind::Read,
            1_763_985_900,
            Some("dlv_01J0000000000000000000000"),
            vec![],
        )]
    );
}

#[test]
fn when_whatsapp_status_failed_then_failed_status_with_error_code_131047() {
    assert_eq!(
        events("whatsapp-status-failed.json"),
        [status(
            "wamid.HBgLMTYzMTU1NTExODEVAgARGBJEMjU1NzE1QTVFQzMzQjIzMTQA",
            StatusKind::Failed,
            1_764_062_401,
            Some("dlv_01J0000000000000000000001"),
            vec![131_047],
        )]
    );
}

#[test]
fn when_whatsapp_webhook_error_then_ignored_webhook_error() {
    assert_eq!(
        events("whatsapp-webhook-error.json"),
        [ignored(Platform::Whatsapp, IgnoreReason::WebhookError)]
    );
}

#[test]
fn when_whatsapp_batched_then_every_entry_and_change_in_order() {
    assert_eq!(
        events("whatsapp-batched.json"),
        [
            kerry(
                "wamid.HBgLMTYzMTU1NTExODEVAgASGBQyQzI3MzVDQkFERjk5RDc1ODA4NwA=",
                1_763_971_800,
                MessageKind::Text,
                Some("Ok, 42 it is. Can I pick them up tomorrow?"),
            ),
            status(
                LIST_MESSAGE_WAMID,
                StatusKind::Read,
                1_763_971_430,
                None,
                vec![]
            ),
            whatsapp(
                DANA,
                "wamid.HBgLMTYzMTU1NTk4NzYVAgASGBQ0MEIxQkQ2NDVGRjJEQTJGMTM5MgA=",
                1_763_971_805,
                MessageKind::Text,
                Some("Hello, are you open on Sundays?"),
                "Dana Ruiz",
            ),
        ]
    );
}

#[test]
fn when_whatsapp_template_status_update_then_template_status_for_its_account() {
    assert_eq!(
        events("whatsapp-template-status-update.json"),
        [InboundEvent::TemplateStatus(TemplateStatusChange {
            waba_id: "102290129340398".into(),
            template_id: Some("1274983650212345".into()),
            name: "appointment_reminder_followup".into(),
            language: "en_US".into(),
            status: TemplateStatus::Approved,
            reason: None,
            at: Timestamp::from_secs(1_763_971_900),
        })]
    );
}

#[test]
fn when_template_is_paused_then_other_info_title_is_the_reason() {
    assert_eq!(
        events("whatsapp-template-status-paused.json"),
        [InboundEvent::TemplateStatus(TemplateStatusChange {
            waba_id: "102290129340398".into(),
            template_id: Some("1274983650212345".into()),
            name: "appointment_reminder_followup".into(),
            language: "en_US".into(),
            status: TemplateStatus::Paused,
            reason: Some("FIRST_PAUSE".into()),
            at: Timestamp::from_secs(1_763_975_500),
        }),]
    );
}

#[test]
fn when_meta_recategorised_a_template_then_its_new_category_applies() {
    assert_eq!(
        events("whatsapp-template-category-update.json"),
        [InboundEvent::TemplateCategory(TemplateCategoryChange {
            waba_id: "102290129340398".into(),
            name: "appointment_reminder_followup".into(),
            language: "en_US".into(),
            category: TemplateCategory::Marketing,
            at: Timestamp::from_secs(1_763_979_100),
        })]
    );
}

#[test]
fn when_a_category_change_is_only_announced_then_nothing_changes_yet() {
    let impending = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","time":1763975500,
        "changes":[{"field":"template_category_update","value":{"message_template_id":1,
        "message_template_name":"x","message_template_language":"en_US",
        "correct_category":"MARKETING","new_category":"UTILITY",
        "category_update_timestamp":1764579900}}]}]}"#;
    let events = parse_webhook(impending).expect("envelope");
    assert!(
        matches!(
            events.as_slice(),
            [InboundEvent::Ignored {
                reason: IgnoreReason::UnsupportedField(_),
                ..
            }]
        ),
        "{events:?}"
    );
}

#[test]
fn when_template_update_lacks_its_name_or_entry_time_then_it_is_malformed() {
    let nameless = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","time":1763975500,
        "changes":[{"field":"message_template_status_update","value":{"event":"REJECTED",
        "message_template_name":"","message_template_language":"en_US"}}]}]}"#;
    let timeless = br#"{"object":"whatsapp_business_account","entry":[{"id":"1",
        "changes":[{"field":"message_template_status_update","value":{"event":"APPROVED",
        "message_template_name":"x","message_template_language":"en_US"}}]}]}"#;
    for body in [&nameless[..], &timeless[..]] {
        assert_eq!(
            parse_webhook(body).expect("envelope"),
            [ignored(Platform::Whatsapp, IgnoreReason::Malformed)]
        );
    }
}

// ---------------------------------------------------------------------------------------
// Messenger

#[test]
fn when_messenger_text_then_customer_text_keyed_by_page_and_psid() {
    assert_eq!(
        events("messenger-text.json"),
        [messenger(
            PSID,
            "m_hMH3dKolsxwWUg6tiyM6SyGdm4sPUg-XlSD38ToL7EStZ0h-E5lf67pzbAYkDF6Okgadi20rZKfumOjcsfPN-V",
            1_763_971_200_000,
            MessageKind::Text,
            Some("Hi! Is the blue rain jacket still available in M?"),
        )]
    );
}

#[test]
fn when_messenger_image_attachment_in_wire_format_then_media_without_text() {
    assert_eq!(
        events("messenger-image-attachment.json"),
        [messenger(
            PSID,
            "m_PK_deOSQGcSYxlfR9zo4SY80eTaSEfHjF2tdrVEHY12cMr66rmkSaJgQ5wVEhLKaBbPap3JB9yTl-znK0WzqYj",
            1_763_971_260_000,
            MessageKind::Media,
            None,
        )]
    );
}

#[test]
fn when_messenger_quick_reply_then_quick_reply_with_its_title() {
    assert_eq!(
        events("messenger-quick-reply.json"),
        [messenger(
            PSID,
            "m_Ys9I7iOlHBWVhreWhkT_Pi8tCp4VwUkqCFe-n_vE2qoaF6_aaUu_k7USY7BBDMuVepU8h9McMnSnx3puPY32QK",
            1_763_971_380_000,
            MessageKind::QuickReply,
            Some("M"),
        )]
    );
}

#[test]
fn when_messenger_postback_then_postback_with_its_title() {
    assert_eq!(
        events("messenger-postback.json"),
        [messenger(
            PSID,
            "m_jXefoSD9VUyhSjSE2fDzzS6sm7vPyGh-tNkWGueIfPUmd_8sKjZSCZ4n4fKMTB-7FihtjN8I6InUWvsz3ilo99",
            1_763_971_440_000,
            MessageKind::Postback,
            Some("Book a fitting"),
        )]
    );
}

#[test]
fn when_messenger_reaction_react_then_reaction_with_synthetic_id() {
    assert_eq!(
        events("messenger-reaction-react.json"),
        [messenger(
            PSID,
            &format!("reaction:{PAGE_ECHO_MID}:1763971500000:\u{2764}\u{fe0f}"),
            1_763_971_500_000,
            MessageKind::Reaction,
            Some("\u{2764}\u{fe0f}"),
        )]
    );
}

#[test]
fn when_messenger_reaction_unreact_then_ignored_unreact() {
    assert_eq!(
        events("messenger-reaction-unreact.json"),
        [ignored(Platform::Messenger, IgnoreReason::Unreact)]
    );
}

#[test]
fn when_messenger_echo_then_business_echo_to_the_recipient() {
    assert_eq!(
        events("messenger-echo.json"),
        [echo(
            Platform::Messenger,
            PAGE,
            PSID,
            PAGE_ECHO_MID,
            1_763_971_300_000,
            "Which size would you like? We have S, M and L in stock.",
            Some(OUR_APP_ID),
        )]
    );
}

#[test]
fn when_messenger_delivery_then_ignored_delivery() {
    assert_eq!(
        events("messenger-delivery.json"),
        [ignored(Platform::Messenger, IgnoreReason::Delivery)]
    );
}

#[test]
fn when_messenger_read_then_ignored_read() {
    assert_eq!(
        events("messenger-read.json"),
        [ignored(Platform::Messenger, IgnoreReason::Read)]
    );
}

#[test]
fn when_messenger_standby_then_customer_text_flagged_standby() {
    let InboundEvent::CustomerMessage(expected) = messenger(
        PSID,
        "m_Gm7L4Z3i68tNL_cX_sio5kb2PMACiP1wy86COotOf69t3STn67H6qShKHfDxGap4FmHzcjkykPMq_-qL4aCp5i",
        1_763_971_620_000,
        MessageKind::Text,
        Some("Can someone call me about my order instead?"),
    ) else {
        unreachable!("messenger() builds a customer message")
    };
    assert_eq!(
        events("messenger-standby.json"),
        [InboundEvent::CustomerMessage(CustomerMessage {
            standby: true,
            ..expected
        })]
    );
}

#[test]
fn when_messenger_batched_then_two_customers_a_delivery_and_an_echo_in_order() {
    assert_eq!(
        events("messenger-batched.json"),
        [
            messenger(
                PSID,
                "m_LdN1AwGKaE47dXZX6c-E-UVs9CIzJDU3aHGlmf7Q8m1_kekMHVXgh3gJeucEwvW-ATAPRJcLoqZxJbT2o-dSRn",
                1_763_971_800_000,
                MessageKind::Text,
                Some("I'll take the M. Can I pay on pickup?"),
            ),
            ignored(Platform::Messenger, IgnoreReason::Delivery),
            echo(
                Platform::Messenger,
                PAGE,
                PSID2,
                "m_sOherkqKwv8zf9FNdzCaCHB0BvwjlmHEpWgTIjultiZIFKWhrp7Dsz4pZsHMIDVeU4jhY0DOuh97d8p5MnHYNw",
                1_763_971_802_000,
                "Hi! Thanks for reaching out, how can we help?",
                Some(OUR_APP_ID),
            ),
            messenger(
                PSID2,
                "m_3FGJAqtXBHXS7OF7xgnO2ImAoU4LKhb1R0on9yXSRoGtpA1sKERqu6pGAKeZrlXY4iFdFb8H7NHbjmJ5K_9dMb",
                1_763_971_805_000,
                MessageKind::Text,
                Some("Do you have gift cards?"),
            ),
        ]
    );
}

#[test]
fn when_messenger_unknown_field_then_text_and_unknown_keys_are_ignored() {
    assert_eq!(
        events("messenger-unknown-field.json"),
        [messenger(
            PSID,
            "m_nGVA9oQZQtkVZHL8PpogJ-_QA_kxtqpDr22DHyWpJEwN5-dCtm2bSxl8uAy9qnexsgNTKDyMgh7gsPoFEMl2uA",
            1_763_971_680_000,
            MessageKind::Text,
            Some("Great, thanks!"),
        )]
    );
}

// ---------------------------------------------------------------------------------------
// Instagram

#[test]
fn when_instagram_text_then_customer_text_keyed_by_account_and_igsid() {
    assert_eq!(
        events("instagram-text.json"),
        [instagram(
            IGSID,
            "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDM3NDE4NDgxMDAyODY0Nzg0NDYyMjkyMzozNjc5MDgyMDUxNTg3MDg2MTAxMjQxNTUwOTQwNjA4NTk3NzU2NQ",
            1_763_971_200_000,
            MessageKind::Text,
            Some("hey! is the linen shirt from your last post still available?"),
        )]
    );
}

#[test]
fn when_instagram_image_attachment_then_media_without_text() {
    assert_eq!(
        events("instagram-image-attachment.json"),
        [instagram(
            IGSID,
            "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDM2NTU4MTA1NDk3NjkwNDE3NDMyMDk2OTozOTgxNzkxNzc0NDc1Mzk1Mzg1NjQ0MTU5NjkxMTI0ODk5ODkxMw",
            1_763_971_260_000,
            MessageKind::Media,
            None,
        )]
    );
}

#[test]
fn when_instagram_story_reply_then_story_reply_with_its_text() {
    assert_eq!(
        events("instagram-story-reply.json"),
        [instagram(
            IGSID,
            "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwNjI2ODY3Nzc1NTYyODU0MzA5NDE0MTozNzczNDUxMTU3OTg1ODYyOTU5ODQ2MDY0NTA5NjI2OTE3NTc1OQ",
            1_763_971_320_000,
            MessageKind::StoryReply,
            Some("love this colour, do you have it in XL?"),
        )]
    );
}

#[test]
fn when_instagram_echo_then_business_echo_without_app_id() {
    assert_eq!(
        events("instagram-echo.json"),
        [echo(
            Platform::Instagram,
            IG_ACCOUNT,
            IGSID,
            IG_ECHO_MID,
            1_763_971_380_000,
            "Yes! We have it in XL. Want me to reserve one for you?",
            None,
        )]
    );
}

#[test]
fn when_instagram_seen_then_ignored_read() {
    assert_eq!(
        events("instagram-seen.json"),
        [ignored(Platform::Instagram, IgnoreReason::Read)]
    );
}

#[test]
fn when_instagram_reaction_then_reaction_with_synthetic_id() {
    assert_eq!(
        events("instagram-reaction.json"),
        [instagram(
            IGSID,
            &format!("reaction:{IG_ECHO_MID}:1763971420000:\u{2764}"),
            1_763_971_420_000,
            MessageKind::Reaction,
            Some("\u{2764}"),
        )]
    );
}

#[test]
fn when_instagram_postback_then_postback_with_its_title() {
    assert_eq!(
        events("instagram-postback.json"),
        [instagram(
            IGSID,
            "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDM5NzU4NjgxMzI1NzI5MDUwNjI1NjIzMjozMDk1NDYzOTEzNjk3MTM2NzA4NjU3NTA5NDcxNDc4ODIyOTc5Ng",
            1_763_971_440_000,
            MessageKind::Postback,
            Some("Reserve it"),
        )]
    );
}

#[test]
fn when_instagram_batched_then_two_customers_and_a_read_in_order() {
    assert_eq!(
        events("instagram-batched.json"),
        [
            instagram(
                IGSID,
                "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwNzY3MDgxODAwMDE4MzM1ODY0NDY3ODozOTgxNjk5NzQ1MzUwMDQ3MjUxNzQ0OTgxMzM2ODc3NjQyMjQwNA",
                1_763_971_800_000,
                MessageKind::Text,
                Some("perfect, I'll come by on Saturday"),
            ),
            instagram(
                IGSID2,
                "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlVGhyZWFkOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDM3MjU2NTg0ODYyOTk0MDQ5MzgwMDg3OTozOTQ2NDEzMTE0Mjc1MzIyNzk1MjcwMzYxNzE3MjAxMjgxMDA4Mg",
                1_763_971_801_000,
                MessageKind::Text,
                Some("hi, do you ship to Canada?"),
            ),
            ignored(Platform::Instagram, IgnoreReason::Read),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Every fixture, and bodies that are not fixtures

#[test]
fn when_any_fixture_is_parsed_then_it_parses_and_verifies_signed_as_on_disk() {
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("fixture folder")
        .map(|entry| {
            entry
                .expect("fixture entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 37, "fixtures found: {names:?}");
    let secret = b"fixture-app-secret";
    for name in &names {
        let body = fixture(name);
        let events = parse_webhook(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!events.is_empty(), "{name}: no events");
        assert!(
            !events.iter().any(|e| matches!(
                e,
                InboundEvent::Ignored {
                    reason: IgnoreReason::Malformed | IgnoreReason::UnknownObject,
                    ..
                }
            )),
            "{name}: {events:?}"
        );
        let header = sign(secret, &body);
        assert_eq!(
            verify_signature(secret, &body, Some(&header)),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn when_body_is_garbage_then_parse_error() {
    for body in [
        &b"not json"[..],
        b"",
        b"{\"object\":",
        b"\xff\xfe",
        b"<xml/>",
    ] {
        assert!(
            matches!(parse_webhook(body), Err(ParseError::NotJson { .. })),
            "{body:?}"
        );
    }
    assert_eq!(
        parse_webhook(br#"{"hello":"world"}"#),
        Err(ParseError::NotAWebhook)
    );
}

#[test]
fn when_object_is_unknown_then_a_single_ignored_unknown_object() {
    assert_eq!(
        parse_webhook(br#"{"object":"user","entry":[]}"#),
        Ok(vec![InboundEvent::Ignored {
            platform: None,
            reason: IgnoreReason::UnknownObject,
        }])
    );
}

#[test]
fn when_a_malformed_event_sits_next_to_a_good_one_then_one_malformed_and_the_good_one() {
    let body = br#"{"object":"page","entry":[{"id":"1122334455667788","time":1763971200412,"messaging":[
        {"sender":{"id":"6543210987654321"},"recipient":{"id":"1122334455667788"},"timestamp":"soon","message":{"mid":"m_bad","text":"x"}},
        {"sender":{"id":"6543210987654321"},"recipient":{"id":"1122334455667788"},"timestamp":1763971200000,"message":{"mid":"m_good","text":"still here"}}
    ]}]}"#;
    assert_eq!(
        parse_webhook(body),
        Ok(vec![
            ignored(Platform::Messenger, IgnoreReason::Malformed),
            messenger(
                PSID,
                "m_good",
                1_763_971_200_000,
                MessageKind::Text,
                Some("still here")
            ),
        ])
    );
}

#[test]
fn when_a_whatsapp_message_is_malformed_then_its_neighbours_in_the_batch_still_count() {
    let body = br#"{"object":"whatsapp_business_account","entry":[
        "not an entry",
        {"id":"102290129340398","changes":[
            {"field":"messages","value":{"metadata":{"phone_number_id":"106540352242922"},
             "contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"16315551181"}],
             "messages":[
                {"from":"16315551181","id":"wamid.A","timestamp":{"s":1},"type":"text","text":{"body":"bad"}},
                {"from":"16315551181","id":"wamid.B","timestamp":1763971200,"type":"text","text":{"body":"good"}},
                {"id":"wamid.C","timestamp":"1763971200","type":"text","text":{"body":"nobody"}},
                {"from":"16315551181","id":"wamid.D","timestamp":"1763971201","type":"reaction","reaction":{"message_id":"wamid.B","emoji":""}}
             ]}},
            {"field":"account_update","value":{}}
        ]}
    ]}"#;
    assert_eq!(
        parse_webhook(body),
        Ok(vec![
            ignored(Platform::Whatsapp, IgnoreReason::Malformed),
            ignored(Platform::Whatsapp, IgnoreReason::Malformed),
            kerry("wamid.B", 1_763_971_200, MessageKind::Text, Some("good")),
            // A lone contact names the sender when the message itself names nobody.
            kerry("wamid.C", 1_763_971_200, MessageKind::Text, Some("nobody")),
            ignored(Platform::Whatsapp, IgnoreReason::Unreact),
            ignored(
                Platform::Whatsapp,
                IgnoreReason::UnsupportedField("account_update".to_owned())
            ),
        ])
    );
}
