//! Rendering: finished reports to bytes, one writer per format.
