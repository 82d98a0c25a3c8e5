//! The route table. Routes are added through [`RouteBuilder`], which records each
//! (method, path) as it registers it, so the OpenAPI test can compare the document with
//! what the router really serves, in both directions.

use std::collections::BTreeMap;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;

use crate::state::AppState;

pub mod conversations;
pub mod deliveries;
pub mod dry_run;
pub mod follow_ups;
pub mod integrations;
pub mod meta;
mod scope;
pub mod templates;
pub mod webhook;

#[derive(Default)]
pub(crate) struct RouteBuilder {
    by_path: BTreeMap<&'static str, MethodRouter<AppState>>,
    table: Vec<(Method, &'static str)>,
}

macro_rules! method_fn {
    ($name:ident, $method:expr) => {
        pub(crate) fn $name<H, T>(mut self, path: &'static str, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            let methods = self.by_path.remove(path).unwrap_or_default();
            self.by_path.insert(path, methods.$name(handler));
            self.table.push(($method, path));
            self
        }
    };
}

impl RouteBuilder {
    method_fn!(get, Method::GET);
    method_fn!(post, Method::POST);
    method_fn!(put, Method::PUT);
    method_fn!(patch, Method::PATCH);
    method_fn!(delete, Method::DELETE);

    pub(crate) fn build(self) -> (Router<AppState>, Vec<(Method, &'static str)>) {
        let router = self
            .by_path
            .into_iter()
            .fold(Router::new(), |router, (path, methods)| {
                router.route(path, methods)
            });
        (router, self.table)
    }
}

/// Every route of the service, in one place.
pub(crate) fn all_routes() -> RouteBuilder {
    let builder = RouteBuilder::default();
    let builder = meta::routes(builder);
    let builder = follow_ups::routes(builder);
    let builder = integrations::routes(builder);
    let builder = conversations::routes(builder);
    let builder = dry_run::routes(builder);
    let builder = deliveries::routes(builder);
    let builder = templates::routes(builder);
    webhook::routes(builder)
}
