//! gantry-scaler: sizes a CI agent queue's Auto Scaling group from the
//! queue's job counts (Buildkite agents, or GitHub Actions runners: see
//! `github`). `decide` is the pure decision; `sources`, `group` and
//! `metrics` are the I/O behind narrow traits; `handler` runs one invocation.
//!
//! Never terminating a busy agent: instances launch protected from scale-in
//! only while their agent runs a job (the agent's job hooks set and clear
//! instance scale-in protection, see the agent_queue user data). When the
//! scaler lowers desired capacity, Auto Scaling can therefore only remove
//! idle instances; the scaler also never asks for fewer instances than are
//! protected, than busy agents occupy, or than running jobs need.

// Every public item says what it is (CI's -D warnings makes this an error).
#![warn(missing_docs)]

pub mod config;
pub mod decide;
pub mod github;
pub mod group;
pub mod handler;
pub mod metrics;
pub mod sources;
