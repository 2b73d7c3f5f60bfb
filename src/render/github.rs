//! GitHub Actions workflow commands (`::error title=…::message`), with the escaping GitHub
//! requires; shared by every writer of `--format github`.

/// Escape a workflow command's message.
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value (file, title).
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::level key=value,key=value::message`, every part escaped.
pub fn command(level: &str, properties: &[(&str, &str)], message: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", property(v)))
        .collect();
    format!("::{level} {}::{}", props.join(","), data(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a: b, c"), "a%3A b%2C c");
    }

    #[test]
    fn a_command_escapes_properties_and_message_apart() {
        assert_eq!(
            command("error", &[("file", "a,b.sql"), ("line", "3")], "x: 1%\ny"),
            "::error file=a%2Cb.sql,line=3::x: 1%25%0Ay"
        );
    }
}
