//! kbuild-env (being written; the helper writing it replaces this file).
