//! One error type for everything that stops a check. Every variant names the input it is about,
//! because "could not check" (exit 2) is only useful when the user can see what to fix.

use std::fmt;

#[derive(Debug)]
pub struct Error {
    /// What the error is about: a state file, a policy file, `AWS ec2 us-east-1`, a CLI flag.
    pub input: String,
    pub message: String,
}

impl Error {
    pub fn new(input: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            input: input.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
