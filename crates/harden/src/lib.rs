//! Kernel hardening rules as data (kconfig, command line, sysctl) and a report that checks a config or a running system against them (being filled in: see docs/ARCHITECTURE.md).
