//! Object keys.
//!
//! A key is any UTF-8 string of 1 to 1024 bytes, and it is used exactly as given: the
//! operations encode it once for the URL, so the caller's `%20` is three characters of the key
//! (sent as `%2520`), `a//b` keeps both slashes and `../x` is not resolved. Nothing here
//! rewrites a key behind the caller's back; [`safe_key_from_filename`] is a separate helper that
//! is only applied when called.

use crate::Error;

/// Longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_LEN: usize = 1024;

/// Longest extension [`safe_key_from_filename`] keeps when it must shorten a name: a longer
/// "extension" is more likely a dotted name than a file type.
const MAX_EXTENSION_LEN: usize = 16;

/// Checks a key: not empty, at most [`MAX_KEY_LEN`] bytes.
///
/// ```
/// use presign::s3::validate_key;
/// assert!(validate_key("photos/2024/a b%20c.jpg").is_ok());
/// assert!(validate_key("").is_err());
/// assert!(validate_key(&"k".repeat(1025)).is_err());
/// ```
pub fn validate_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidKey("the key is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::InvalidKey("the key is longer than 1024 bytes"));
    }
    Ok(())
}

/// A key made from a user-supplied file name (an upload form's `filename`), safe to use
/// without further checks. Never applied implicitly: the operations use keys verbatim.
///
/// The name is reduced to its last path component (after the last `/` or `\`, so Windows
/// paths and `../../etc/passwd` lose their directories), then:
///
/// * leading and trailing whitespace and dots are removed (no hidden `.files`, no Windows
///   trailing-dot names), and every other run of whitespace (spaces, tabs, newlines, …)
///   becomes one `-`;
/// * other control characters and invisible bidirectional/format characters (U+200E,
///   U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF) are removed: they can hide the real
///   extension (`photo\u{202E}gpj.exe` displays as `photoexe.jpg`);
/// * runs of dots become one dot, so no `..` is left;
/// * if the result with `prefix/` exceeds 1024 bytes, the stem is shortened on a character
///   boundary and the extension kept.
///
/// `prefix`, if given and not empty, is joined with exactly one `/` (its trailing slashes are
/// dropped); it is otherwise kept as given. A name with nothing left (empty, only dots,
/// only a directory) is refused with [`Error::InvalidKey`], as is a prefix containing control
/// characters or leaving no room for a name.
///
/// ```
/// use presign::s3::safe_key_from_filename;
/// assert_eq!(safe_key_from_filename("../../etc/passwd", None).unwrap(), "passwd");
/// assert_eq!(
///     safe_key_from_filename("C:\\Users\\me\\My File.PNG", Some("uploads/")).unwrap(),
///     "uploads/My-File.PNG"
/// );
/// assert!(safe_key_from_filename("...", None).is_err());
/// ```
pub fn safe_key_from_filename(file_name: &str, prefix: Option<&str>) -> Result<String, Error> {
    let prefix = prefix.map(|p| p.trim_end_matches('/')).unwrap_or("");
    if prefix.chars().any(char::is_control) {
        return Err(Error::InvalidKey("the prefix contains control characters"));
    }
    // Room for the name once `prefix/` is in front of it.
    let room = if prefix.is_empty() {
        MAX_KEY_LEN
    } else {
        prefix
            .len()
            .checked_add(1)
            .and_then(|taken| MAX_KEY_LEN.checked_sub(taken))
            .filter(|&r| r > 0)
            .ok_or(Error::InvalidKey(
                "the prefix leaves no room for a file name",
            ))?
    };

    let base = file_name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut name = String::with_capacity(base.len());
    let mut pending_space = false;
    for c in base.chars() {
        // Whitespace first: tab and newline are control characters too, but they separate
        // words like a space does.
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if c.is_control() || is_invisible_format(c) {
            continue;
        }
        if c == '.' && (name.is_empty() || name.ends_with('.')) {
            // Leading dots and the second dot of a run are dropped. A space before a dot is
            // kept as '-', so "a .b" stays distinguishable from "a.b".
            if !pending_space || name.is_empty() {
                continue;
            }
        }
        if pending_space && !name.is_empty() {
            name.push('-');
        }
        pending_space = false;
        name.push(c);
    }
    let name = name.trim_end_matches('.');
    if name.is_empty() {
        return Err(Error::InvalidKey(
            "the file name has no usable characters (empty, only dots or only a directory)",
        ));
    }
    let name = shorten_keeping_extension(name, room).ok_or(Error::InvalidKey(
        "the prefix leaves no room for the file name",
    ))?;

    let mut key = String::with_capacity(
        prefix
            .len()
            .saturating_add(1)
            .saturating_add(name.0.len())
            .saturating_add(name.1.len()),
    );
    if !prefix.is_empty() {
        key.push_str(prefix);
        key.push('/');
    }
    key.push_str(name.0);
    key.push_str(name.1);
    Ok(key)
}

/// Unicode format characters that change how text is displayed without being visible.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Splits `name` into (stem, extension) shortened to `room` bytes: the stem is cut on a
/// character boundary, the extension (last `.` and up to 16 bytes after it) kept whole.
/// `None` when not even one character fits.
fn shorten_keeping_extension(name: &str, room: usize) -> Option<(&str, &str)> {
    if name.len() <= room {
        return Some((name, ""));
    }
    let split = name
        .rfind('.')
        .filter(|&dot| dot > 0)
        .and_then(|dot| name.split_at_checked(dot));
    let (stem, ext) = match split {
        Some((stem, ext)) if ext.len() <= MAX_EXTENSION_LEN + 1 => (stem, ext),
        _ => (name, ""),
    };
    let cut_stem = cut_at_boundary(stem, room.saturating_sub(ext.len()));
    // A cut can leave the stem ending with '.', which would double with the extension's dot.
    let cut_stem = cut_stem.trim_end_matches('.');
    if !cut_stem.is_empty() && ext.len() < room {
        return Some((cut_stem, ext));
    }
    // The extension leaves no room for the stem: keep the start of the name instead, so the
    // key never starts with a dot.
    let whole = cut_at_boundary(name, room).trim_end_matches('.');
    (!whole.is_empty()).then_some((whole, ""))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut_at_boundary(s: &str, max: usize) -> &str {
    let cut = (0..=max.min(s.len()))
        .rev()
        .find(|&cut| s.is_char_boundary(cut))
        .unwrap_or(0);
    s.get(..cut).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(name: &str, prefix: Option<&str>) -> Result<String, Error> {
        safe_key_from_filename(name, prefix)
    }

    #[test]
    fn keys_are_checked_not_changed() {
        assert_eq!(validate_key("a"), Ok(()));
        assert_eq!(validate_key(&"é".repeat(512)), Ok(()));
        assert_eq!(
            validate_key(&"é".repeat(513)),
            Err(Error::InvalidKey("the key is longer than 1024 bytes"))
        );
        assert_eq!(validate_key(""), Err(Error::InvalidKey("the key is empty")));
    }

    #[test]
    fn directories_are_stripped() {
        assert_eq!(safe("../../etc/passwd", None).as_deref(), Ok("passwd"));
        assert_eq!(safe("..\\..\\boot.ini", None).as_deref(), Ok("boot.ini"));
        assert_eq!(
            safe("C:\\Users\\me\\My File.PNG", None).as_deref(),
            Ok("My-File.PNG")
        );
        assert_eq!(safe("/abs/path/x.tar.gz", None).as_deref(), Ok("x.tar.gz"));
        assert_eq!(safe("mixed/dir\\name.txt", None).as_deref(), Ok("name.txt"));
    }

    #[test]
    fn dots_and_whitespace() {
        assert_eq!(safe(".bashrc", None).as_deref(), Ok("bashrc"));
        assert_eq!(safe("...hidden..txt", None).as_deref(), Ok("hidden.txt"));
        assert_eq!(safe("name.", None).as_deref(), Ok("name"));
        assert_eq!(
            safe("  a  b\tc\u{00A0}d .txt ", None).as_deref(),
            Ok("a-b-c-d-.txt")
        );
        assert_eq!(
            safe("a\nb\u{0}c\u{7f}.txt", None).as_deref(),
            Ok("a-bc.txt")
        );
    }

    #[test]
    fn unicode_is_kept_but_invisible_controls_are_not() {
        assert_eq!(
            safe("résumé 2024.pdf", None).as_deref(),
            Ok("résumé-2024.pdf")
        );
        assert_eq!(
            safe("日本語 ファイル.txt", None).as_deref(),
            Ok("日本語-ファイル.txt")
        );
        assert_eq!(
            safe("👩\u{200D}💻.md", None).as_deref(),
            Ok("👩\u{200D}💻.md")
        );
        assert_eq!(
            safe("photo\u{202E}gpj.exe", None).as_deref(),
            Ok("photogpj.exe")
        );
    }

    #[test]
    fn nothing_left_is_an_error() {
        for bad in [
            "", ".", "..", "....", "dir/", "a/..", "  ", "\u{202E}", "\\",
        ] {
            assert!(
                matches!(safe(bad, None), Err(Error::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn prefix_is_joined_with_one_slash() {
        assert_eq!(safe("a.txt", Some("up")).as_deref(), Ok("up/a.txt"));
        assert_eq!(safe("a.txt", Some("up///")).as_deref(), Ok("up/a.txt"));
        assert_eq!(safe("a.txt", Some("")).as_deref(), Ok("a.txt"));
        assert_eq!(safe("a.txt", Some("/")).as_deref(), Ok("a.txt"));
        assert_eq!(
            safe("a.txt", Some("users/42/")).as_deref(),
            Ok("users/42/a.txt")
        );
        assert!(safe("a.txt", Some("bad\nprefix")).is_err());
        assert!(safe("a.txt", Some(&"p".repeat(1023))).is_err());
        // One byte of room: a three-byte character does not fit.
        assert!(safe("日.txt", Some(&"p".repeat(1022))).is_err());
        assert_eq!(
            safe("abcdef.jpeg", Some(&"p".repeat(1018))).map(|k| k[1019..].to_owned()),
            Ok("abcde".to_owned())
        );
        assert_eq!(
            safe("abcdefgh.jpeg", Some(&"p".repeat(1013))).map(|k| k[1014..].to_owned()),
            Ok("abcde.jpeg".to_owned())
        );
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.jpeg", "x".repeat(2000));
        let key = safe(&long, None).unwrap_or_default();
        assert_eq!(key.len(), 1024);
        assert!(key.ends_with("x.jpeg"));

        let key = safe(&long, Some("p")).unwrap_or_default();
        assert_eq!(key.len(), 1024);
        assert!(key.starts_with("p/x") && key.ends_with(".jpeg"));

        // Multi-byte characters are cut on a boundary: the result is shorter, still valid.
        let long = format!("{}.txt", "日".repeat(400));
        let key = safe(&long, None).unwrap_or_default();
        assert!(key.len() <= 1024 && key.len() > 1015);
        assert!(key.ends_with("日.txt"));

        // A very long "extension" is treated as part of the name.
        let long = format!("a.{}", "b".repeat(2000));
        let key = safe(&long, None).unwrap_or_default();
        assert_eq!(key.len(), 1024);
        assert!(validate_key(&key).is_ok());
    }
}
