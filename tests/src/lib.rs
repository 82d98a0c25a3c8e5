//! Shared test support: the store contract suite that every store adapter must pass, and
//! a helper that runs the local engine on a free loopback port.

pub mod engine;
pub mod fakes;
pub mod moto;
pub mod runtime_api;
pub mod scheduler_contract;
pub mod store_contract;
