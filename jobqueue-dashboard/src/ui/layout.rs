//! The page frame every HTML page shares: head (our CSS and script only),
//! navigation, flash message, and the CSRF token for forms and scripts.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::visible::escape_hidden_in_page;
use crate::config::Role;
use crate::security::csrf::CSRF_FIELD;
use crate::security::principal::Principal;
use crate::state::AppState;

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Queues,
    Cron,
    Workers,
    Workflows,
    Audit,
    #[cfg(feature = "alerts")]
    Alerts,
}

/// A full page around `body`.
pub(crate) fn page(
    state: &AppState,
    who: &Principal,
    nav: Nav,
    title: &str,
    flash: Option<&str>,
    body: Markup,
) -> Markup {
    let link = |path: &str| state.link(path);
    let item = |target: Nav, path: &str, label: &str| {
        html! {
            a href=(link(path)) class={ @if nav == target { "current" } } { (label) }
        }
    };
    #[cfg(feature = "alerts")]
    let alerts_item = item(Nav::Alerts, "/alerts", "Alerts");
    #[cfg(not(feature = "alerts"))]
    let alerts_item = html! {};
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(token) = state.csrf.token_for(who) {
                    meta name="csrf-token" content=(token);
                }
                meta name="api-base" content=(link("/api/v1"));
                title { (title) " · jobqueue" }
                link rel="stylesheet" href=(link("/assets/app.css"));
                script src=(link("/assets/app.js")) defer {}
            }
            body {
                header.top {
                    a.brand href=(link("/")) { "jobqueue" }
                    nav {
                        (item(Nav::Overview, "/", "Overview"))
                        (item(Nav::Queues, "/queues", "Queues"))
                        (item(Nav::Cron, "/cron", "Cron"))
                        (item(Nav::Workers, "/workers", "Workers"))
                        (item(Nav::Workflows, "/workflows", "Workflows"))
                        (alerts_item)
                        (item(Nav::Audit, "/audit", "Audit log"))
                    }
                    span.who title="signed in as" {
                        (who.name)
                        @if who.role == Role::ReadOnly { " · read-only" }
                    }
                    @if let Some(session) = &who.session {
                        form.inline #sign-out-form method="post" action=(link("/logout")) {
                            input type="hidden" name=(CSRF_FIELD) value=(state.csrf.sign_out_token(session));
                            button #sign-out type="submit" class="secondary" { "Sign out" }
                        }
                    }
                }
                main {
                    @if let Some(message) = flash {
                        p.flash role="status" { (message) }
                    }
                    (body)
                }
            }
        }
    };
    PreEscaped(escape_hidden_in_page(page.into_string()))
}

/// The hidden CSRF field every form carries: `who`'s own token (none for
/// read-only users, who get no forms).
pub(crate) fn csrf_field(state: &AppState, who: &Principal) -> Markup {
    html! {
        @if let Some(token) = state.csrf.token_for(who) {
            input type="hidden" name=(CSRF_FIELD) value=(token);
        }
    }
}

/// A one-button POST form (hidden when the caller is read-only).
pub(crate) fn action_button(
    state: &AppState,
    who: &Principal,
    action: &str,
    label: &str,
    class: &str,
    id: Option<&str>,
) -> Markup {
    confirm_button(state, who, action, label, class, id, None)
}

/// [`action_button`] whose click asks `question` first (for `danger`
/// buttons; our script asks, see `app.js`).
pub(crate) fn confirm_button(
    state: &AppState,
    who: &Principal,
    action: &str,
    label: &str,
    class: &str,
    id: Option<&str>,
    question: Option<&str>,
) -> Markup {
    html! {
        @if who.role == Role::Operator {
            form.inline method="post" action=(action) {
                (csrf_field(state, who))
                button type="submit" class=(class) id=[id] data-confirm=[question] { (label) }
            }
        }
    }
}
