//! Find that and why two kernel .debs differ: a streaming, bounded, kernel-aware package diff (being filled in: see docs/ARCHITECTURE.md).
