//! The one process-wide setting a build needs, which no library may make.

/// Sets the process umask (inherited by kbuild and everything it runs), returning
/// the previous one. kbuild's outputs take their modes from it.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask(2) cannot fail and only swaps one integer of process state.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}
