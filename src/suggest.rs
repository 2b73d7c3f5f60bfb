//! "Did you mean" for mistyped names (check ids, budgets.toml keys): the nearest valid name.

/// The valid name nearest to `got`, when it is plausibly a typo of it: a prefix either way, or
/// within an edit distance of half the longer name (a swap of two neighbours counts as one).
pub fn closest<'a>(got: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let valid: Vec<&str> = valid.into_iter().collect();
    if let Some(v) = valid
        .iter()
        .find(|v| got.len() >= 3 && (v.starts_with(got) || got.starts_with(**v)))
    {
        return Some(v.to_string());
    }
    valid
        .iter()
        .map(|v| (strsim::osa_distance(got, v), v))
        .filter(|(d, v)| *d <= (v.len().max(got.len()) / 2).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v.to_string())
}

/// `; did you mean "x"?`, or nothing.
pub fn hint<'a>(got: &str, valid: impl IntoIterator<Item = &'a str>) -> String {
    closest(got, valid)
        .map(|k| format!("; did you mean \"{k}\"?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_name_and_unrelated_words_find_none() {
        let ids = ["unused_index", "duplicate_index", "fk_without_index"];
        assert_eq!(
            closest("unsued_index", ids).as_deref(),
            Some("unused_index")
        );
        assert_eq!(
            closest("fk_without", ids).as_deref(),
            Some("fk_without_index")
        );
        assert_eq!(
            closest("p59_ms", ["p95_ms", "mean_ms"]).as_deref(),
            Some("p95_ms")
        );
        assert_eq!(closest("completely_else", ids), None);
        assert_eq!(hint("zzz", ids), "");
    }
}
