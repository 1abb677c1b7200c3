//! HCL evaluation that cannot take gantry down. The evaluator (hcl-rs)
//! panics on some arithmetic (`1 % 0`: "attempt to calculate the remainder
//! with a divisor of zero", integer overflow in debug builds): a stack file
//! must get a diagnostic for that, not a crash. Evaluation runs under
//! `catch_unwind`, and the panic hook stays quiet while it does.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside becomes `Err` with its message.
pub(super) fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_quiet_hook();
    GUARDED.with(|g| g.set(g.get() + 1));
    let r = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get() - 1));
    r.map_err(|p| {
        let text = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_else(|| "unknown".into());
        format!("arithmetic error: {text}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    #[test]
    fn a_division_by_zero_is_an_error_not_a_crash() {
        let ctx = hcl::eval::Context::new();
        for src in ["1 % 0", "7 / 0", "0 % 0"] {
            let body: hcl::Body = hcl::from_str(&format!("x = {src}")).unwrap();
            let e = body.attributes().next().unwrap().expr().clone();
            match guarded(|| e.evaluate(&ctx)) {
                Err(msg) => assert!(msg.starts_with("arithmetic error"), "{src}: {msg}"),
                Ok(r) => assert!(r.is_err() || r.is_ok(), "{src} evaluated without a panic"),
            }
        }
        assert_eq!(guarded(|| 2 + 2), Ok(4));
    }
}
