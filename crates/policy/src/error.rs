//! Validation errors with positions.

use serde::Serialize;
use std::fmt;

/// One problem in a configuration file (also used for warnings).
///
/// `line` and `column` are 1-based; both are 0 when the problem concerns the file as a
/// whole (it cannot be read). `path` is the key path (`pools[2].prefixes[0]`), empty for
/// the document itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    /// `FILE:LINE:COL: key.path: message` (the path and position are left out when empty).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file)?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.column)?;
        }
        if !self.path.is_empty() {
            write!(f, " {}:", self.path)?;
        }
        write!(f, " {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in a rejected configuration, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<ConfigError> {
        self.0
    }
}

impl fmt::Display for ConfigErrors {
    /// One line per error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(line: usize, path: &str) -> ConfigError {
        ConfigError {
            file: "op25b.yaml".into(),
            line,
            column: if line > 0 { 7 } else { 0 },
            path: path.into(),
            message: "bad".into(),
        }
    }

    #[test]
    fn display_is_file_line_column_path_message() {
        assert_eq!(
            e(3, "pools[0].name").to_string(),
            "op25b.yaml:3:7: pools[0].name: bad"
        );
        assert_eq!(e(1, "").to_string(), "op25b.yaml:1:7: bad");
        assert_eq!(e(0, "").to_string(), "op25b.yaml: bad");
        let all = ConfigErrors(vec![e(1, "a"), e(2, "b")]);
        assert_eq!(
            all.to_string(),
            "op25b.yaml:1:7: a: bad\nop25b.yaml:2:7: b: bad"
        );
        assert_eq!(all.len(), 2);
    }
}
