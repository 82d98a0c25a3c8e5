use super::*;
use crate::followup::{LanguageCode, ParameterText, TemplateName, TemplateParameter};

fn catalogue_entry(
    name: &str,
    language: &str,
    status: TemplateStatus,
    params: usize,
) -> MessageTemplate {
    MessageTemplate {
        waba_id: "102290129340398".into(),
        template_id: format!("{name}-{language}-id"),
        name: name.into(),
        language: language.into(),
        category: Some(TemplateCategory::Utility),
        status,
        status_reason: None,
        parameter_format: ParameterFormat::Positional,
        body_text: Some("Hi {{1}}".into()),
        body_parameter_count: params,
        unsupported: None,
        components_json: "[]".into(),
    }
}

fn follow_up_template(name: &str, language: &str, params: usize) -> WhatsAppTemplate {
    WhatsAppTemplate {
        name: TemplateName::parse(name).unwrap(),
        language: LanguageCode::parse(language).unwrap(),
        parameters: (0..params)
            .map(|i| TemplateParameter::Text {
                text: ParameterText::parse(&format!("value {i}")).unwrap(),
            })
            .collect(),
    }
}

fn rule_and_field(result: Result<(), ValidationErrors>) -> (String, &'static str) {
    let errors = result.expect_err("must be refused");
    assert_eq!(errors.0.len(), 1, "{errors:?}");
    (errors.0[0].field.clone(), errors.0[0].rule)
}

#[test]
fn when_statuses_come_from_meta_then_any_case_parses_and_reinstated_means_approved() {
    assert_eq!(
        TemplateStatus::from_meta("approved"),
        TemplateStatus::Approved
    );
    assert_eq!(TemplateStatus::from_meta("PAUSED"), TemplateStatus::Paused);
    assert_eq!(
        TemplateStatus::from_meta("REINSTATED"),
        TemplateStatus::Approved
    );
    assert_eq!(
        TemplateStatus::from_meta("IN_APPEAL"),
        TemplateStatus::InAppeal
    );
    assert_eq!(
        TemplateStatus::from_meta("SOMETHING_NEW"),
        TemplateStatus::Unknown
    );
    for status in TemplateStatus::ALL {
        assert_eq!(TemplateStatus::from_meta(status.as_str()), status);
    }
}

#[test]
fn when_status_is_not_approved_or_flagged_then_it_is_not_sendable() {
    let sendable: Vec<_> = TemplateStatus::ALL
        .into_iter()
        .filter(|s| s.is_sendable())
        .collect();
    assert_eq!(
        sendable,
        [TemplateStatus::Approved, TemplateStatus::Flagged]
    );
}

#[test]
fn when_category_is_utility_then_billed_outside_window_only_else_always() {
    assert_eq!(
        TemplateCategory::Utility.billing(),
        Billing::OutsideCustomerServiceWindow
    );
    assert_eq!(TemplateCategory::Marketing.billing(), Billing::Always);
    assert_eq!(TemplateCategory::Authentication.billing(), Billing::Always);
    assert_eq!(
        TemplateCategory::from_meta("marketing"),
        Some(TemplateCategory::Marketing)
    );
    assert_eq!(TemplateCategory::from_meta("OTHER"), None);
}

#[test]
fn when_body_repeats_a_placeholder_then_it_counts_once() {
    let found = placeholders("Hi {{1}}, your slot {{2}} is free. {{1}}, reply YES.");
    assert_eq!(found.positional, [1, 2]);
    assert_eq!(found.count(), 2);
    let named = placeholders("Hi {{first_name}}!");
    assert_eq!(named.named, ["first_name"]);
    assert_eq!(placeholders("no placeholders, {{ not closed").count(), 0);
}

fn component(kind: &str, format: Option<&str>, text: Option<&str>) -> ComponentSummary {
    ComponentSummary {
        kind: kind.into(),
        format: format.map(Into::into),
        text: text.map(Into::into),
        buttons: Vec::new(),
    }
}

#[test]
fn when_template_has_only_body_placeholders_then_it_is_supported_with_their_count() {
    let analysis = analyse_components(&[
        component("HEADER", Some("TEXT"), Some("Your appointment")),
        component("BODY", None, Some("Hi {{1}}, see you on {{2}}.")),
        component("FOOTER", None, Some("Reply STOP to opt out")),
    ]);
    assert_eq!(analysis.body_parameter_count, 2);
    assert_eq!(analysis.unsupported, None);
    assert_eq!(analysis.parameter_format, ParameterFormat::Positional);
}

#[test]
fn when_template_needs_media_header_or_url_placeholder_then_it_is_unsupported() {
    let media = analyse_components(&[
        component("HEADER", Some("IMAGE"), None),
        component("BODY", None, Some("Hello")),
    ]);
    assert!(media.unsupported.unwrap().contains("media"));
    let mut buttons = component("BUTTONS", None, None);
    buttons.buttons = vec![("URL".into(), Some("https://x.example/{{1}}".into()))];
    let url = analyse_components(&[component("BODY", None, Some("Hello")), buttons]);
    assert!(url.unsupported.unwrap().contains("URL button"));
    let named = analyse_components(&[component("BODY", None, Some("Hi {{name}}"))]);
    assert_eq!(named.parameter_format, ParameterFormat::Named);
    assert!(named.unsupported.is_some());
}

#[test]
fn when_template_is_approved_with_matching_parameters_then_save_check_passes() {
    let catalogue = [catalogue_entry(
        "appointment_reminder",
        "en_US",
        TemplateStatus::Approved,
        2,
    )];
    assert_eq!(
        check_against_catalogue(
            &follow_up_template("appointment_reminder", "en_US", 2),
            &catalogue
        ),
        Ok(())
    );
}

#[test]
fn when_template_is_missing_then_name_is_refused_as_not_found() {
    let catalogue = [catalogue_entry(
        "other",
        "en_US",
        TemplateStatus::Approved,
        0,
    )];
    let result = check_against_catalogue(
        &follow_up_template("appointment_reminder", "en_US", 0),
        &catalogue,
    );
    assert_eq!(
        rule_and_field(result),
        ("whatsapp_template.name".into(), "template_not_found")
    );
}

#[test]
fn when_language_is_missing_then_language_is_refused_listing_the_others() {
    let catalogue = [
        catalogue_entry("appointment_reminder", "pt_BR", TemplateStatus::Approved, 0),
        catalogue_entry("appointment_reminder", "en_US", TemplateStatus::Approved, 0),
    ];
    let errors = check_against_catalogue(
        &follow_up_template("appointment_reminder", "de", 0),
        &catalogue,
    )
    .expect_err("refused");
    assert_eq!(errors.0[0].field, "whatsapp_template.language");
    assert_eq!(errors.0[0].rule, "template_language_not_found");
    assert!(
        errors.0[0].message.contains("en_US, pt_BR"),
        "{}",
        errors.0[0].message
    );
}

#[test]
fn when_template_is_pending_or_paused_then_save_is_refused_as_not_approved() {
    for status in [
        TemplateStatus::Pending,
        TemplateStatus::Paused,
        TemplateStatus::Rejected,
    ] {
        let catalogue = [catalogue_entry("appointment_reminder", "en_US", status, 0)];
        let result = check_against_catalogue(
            &follow_up_template("appointment_reminder", "en_US", 0),
            &catalogue,
        );
        assert_eq!(
            rule_and_field(result),
            ("whatsapp_template.name".into(), "template_not_approved")
        );
    }
}

#[test]
fn when_parameter_count_differs_then_parameters_are_refused_with_both_counts() {
    let catalogue = [catalogue_entry(
        "appointment_reminder",
        "en_US",
        TemplateStatus::Approved,
        2,
    )];
    let errors = check_against_catalogue(
        &follow_up_template("appointment_reminder", "en_US", 1),
        &catalogue,
    )
    .expect_err("refused");
    assert_eq!(errors.0[0].field, "whatsapp_template.parameters");
    assert_eq!(errors.0[0].rule, "template_parameter_count");
    assert!(
        errors.0[0]
            .message
            .contains("2 body placeholder(s); 1 parameter(s)")
    );
}

#[test]
fn when_template_is_unsupported_then_save_is_refused() {
    let mut entry = catalogue_entry("promo", "en", TemplateStatus::Approved, 0);
    entry.unsupported = Some(
        "follow-ups fill body placeholders only; this template needs a media or location header"
            .into(),
    );
    let result = check_against_catalogue(&follow_up_template("promo", "en", 0), &[entry]);
    assert_eq!(
        rule_and_field(result),
        ("whatsapp_template.name".into(), "template_unsupported")
    );
}

#[test]
fn when_one_account_has_it_approved_and_another_paused_then_the_approved_one_counts() {
    let mut paused = catalogue_entry("appointment_reminder", "en_US", TemplateStatus::Paused, 0);
    paused.waba_id = "2".into();
    let approved = catalogue_entry("appointment_reminder", "en_US", TemplateStatus::Approved, 0);
    let template = follow_up_template("appointment_reminder", "en_US", 0);
    assert_eq!(sendable_now(&template, &[paused, approved]), Ok(()));
}

#[test]
fn when_template_is_paused_then_warning_names_the_status_and_the_skipped_sends() {
    let mut paused = catalogue_entry("appointment_reminder", "en_US", TemplateStatus::Paused, 0);
    paused.status_reason = Some("LOW_QUALITY".into());
    let template = follow_up_template("appointment_reminder", "en_US", 0);
    let warning = template_warning(&template, &[paused]).expect("warning");
    assert_eq!(warning.code, "template_not_approved");
    assert_eq!(warning.field, "whatsapp_template");
    assert!(
        warning.message.contains("status PAUSED (LOW_QUALITY)"),
        "{}",
        warning.message
    );
    assert!(warning.message.contains("skipped"));
    assert_eq!(
        sendable_now(&template, &[]),
        Err(TemplateProblem::NotInCatalogue)
    );
    assert_eq!(
        template_warning(&template, &[]).unwrap().code,
        "template_not_in_catalogue"
    );
    let approved = catalogue_entry("appointment_reminder", "en_US", TemplateStatus::Approved, 0);
    assert_eq!(template_warning(&template, &[approved]), None);
}
