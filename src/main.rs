use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::process::ExitCode;

/// mimalloc, called through its plain entry points. The simulator allocates many small,
/// short-lived objects (messages, version sets, effect lists); mimalloc serves them markedly
/// faster than the system allocator. The `mimalloc` crate's allocator sends every request
/// through `mi_malloc_aligned`, whose checks cost more than the allocation itself on this
/// workload; like std's system allocator, this one asks for alignment only when the plain
/// call's guarantee (16 bytes, or the size for smaller blocks) is not enough. Allocation never
/// influences a simulated result.
struct Mimalloc;

/// What `mi_malloc` guarantees on x86-64 and aarch64 for blocks of at least this size.
const PLAIN_ALIGN: usize = 16;
/// mimalloc's `MI_SMALL_SIZE_MAX` on 64-bit targets: `mi_malloc_small` serves up to this size.
const SMALL_SIZE_MAX: usize = 128 * std::mem::size_of::<usize>();

fn plain(layout: &Layout) -> bool {
    layout.align() <= PLAIN_ALIGN && layout.align() <= layout.size()
}

// SAFETY: each call forwards to the mimalloc function with the contract GlobalAlloc asks for;
// blocks from any of them are freed by `mi_free`.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            if layout.size() <= SMALL_SIZE_MAX {
                mi::mi_malloc_small(layout.size()) as *mut u8
            } else {
                mi::mi_malloc(layout.size()) as *mut u8
            }
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN && layout.align() <= new_size {
            mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[global_allocator]
static ALLOCATOR: Mimalloc = Mimalloc;

/// mimalloc's `mi_option_purge_delay` (its option enum's index in the bundled v3 header).
const MI_OPTION_PURGE_DELAY: mi::mi_option_t = 15;

#[cfg(target_os = "linux")]
extern "C" {
    fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
    fn signal(signum: std::ffi::c_int, handler: usize) -> usize;
}

/// Linux's `SIGPIPE` and `SIG_DFL`.
#[cfg(target_os = "linux")]
const SIGPIPE: std::ffi::c_int = 13;
#[cfg(target_os = "linux")]
const SIG_DFL: usize = 0;

/// Linux's `PR_SET_THP_DISABLE`: no transparent huge pages for this process's later faults.
#[cfg(target_os = "linux")]
const PR_SET_THP_DISABLE: std::ffi::c_int = 41;

fn main() -> ExitCode {
    // A reader that stops early (`dynasim check scenarios/ | head -1`) ends the command as it
    // ends any Unix tool, by SIGPIPE (status 141 in a shell), instead of a panic on the next
    // print: Rust ignores the signal by default.
    // SAFETY: restores the default disposition of one signal; no handler code runs.
    #[cfg(target_os = "linux")]
    unsafe {
        signal(SIGPIPE, SIG_DFL)
    };
    // A simulation's memory only grows until the run ends: returning freed pages to the OS
    // (after mimalloc's default 10 ms) only makes the kernel zero them again on reuse, which
    // cost a fifth of a long run's time.
    // SAFETY: sets a plain integer option; mimalloc reads options on every purge decision.
    unsafe { mi::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // DYNASIM_HUGE_PAGES=0 turns transparent huge pages off. Whether they pay depends on the
    // run: on the project's VM the kernel took five times longer per byte to fault in huge
    // pages than small ones, so a run that builds a large heap quickly (the large benchmark)
    // ran 20-30% faster without them, while a long run over a slowly growing heap (the
    // simulated hour) ran 10-15% faster with them, through fewer TLB misses (BENCHMARKS.md).
    // Long runs are what the simulator is for, so the system's default stands. mimalloc's own
    // switch is read when it starts, before main; the kernel's per-process one applies to every
    // later fault. Failure (an old kernel) only leaves the default.
    #[cfg(target_os = "linux")]
    if std::env::var_os("DYNASIM_HUGE_PAGES").is_some_and(|v| v == "0") {
        // SAFETY: prctl with this option takes integer arguments and touches no memory of ours.
        unsafe {
            prctl(
                PR_SET_THP_DISABLE,
                1 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
            )
        };
    }
    // An interrupted command removes its temporary files (a long trace, a half-written report
    // folder) and exits as a shell expects of a process stopped by a signal.
    let _ = ctrlc::set_handler(|| {
        dynasim::report::folder::remove_partials();
        std::process::exit(130);
    });
    match dynasim::commands::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dynasim: error: {e}");
            ExitCode::from(2)
        }
    }
}
