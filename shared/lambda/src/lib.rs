//! What the three Lambda functions share. Each `main.rs` stays thin: init logging, read
//! [`LambdaConfig`] (fail fast), build the deployment once, then run.

pub mod claims;
pub mod config;
pub mod sqs;
mod wiring;

pub use config::{ConfigError, LambdaConfig};
pub use wiring::{Deployment, InitError, init_logging};
