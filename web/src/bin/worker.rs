//! The worker: runs one task the page sends it (see `mcp_train_web::worker`).

fn main() {
    console_error_panic_hook::set_once();
    mcp_train_web::worker::runner::start();
}
