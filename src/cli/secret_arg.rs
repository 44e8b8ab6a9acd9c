//! Flags whose value is a credential (a code, a verifier, a redirect URL with a code in
//! it, a token): given on the command line they would show in `ps` and the shell's
//! history, so each also comes from its environment variable, from a file (`@FILE`) or
//! from standard input (`-`).

use std::io::Read as _;

use super::InputError;

/// The most read from a file or standard input (a token, a URL).
const LIMIT: u64 = 1024 * 1024;

/// The value of a credential flag: `@FILE` reads the file, `-` reads standard input
/// (once per run), anything else is the value. Surrounding white space and the final
/// newline are dropped.
pub fn read(
    flag: &str,
    value: Option<&str>,
    stdin_taken: &mut bool,
) -> anyhow::Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = if value == "-" {
        if std::mem::replace(stdin_taken, true) {
            return Err(InputError::new(format!(
                "{flag} -: standard input is already read for another value; give this one as @FILE or by its environment variable"
            ))
            .into());
        }
        let mut text = String::new();
        std::io::stdin()
            .take(LIMIT)
            .read_to_string(&mut text)
            .map_err(|e| InputError::new(format!("{flag} -: {e}")))?;
        text
    } else if let Some(path) = value.strip_prefix('@') {
        let file = std::fs::File::open(path)
            .map_err(|e| InputError::new(format!("{flag} @{path}: {e}")))?;
        let mut text = String::new();
        file.take(LIMIT)
            .read_to_string(&mut text)
            .map_err(|e| InputError::new(format!("{flag} @{path}: {e}")))?;
        text
    } else {
        value.to_owned()
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(InputError::new(format!("{flag}: the value is empty")).into());
    }
    Ok(Some(text))
}
