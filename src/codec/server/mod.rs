//! Server-side codec: command-line parsing, path syntax, DATA un-stuffing
//! and reply encoding. No I/O, no allocation.

pub mod command;
pub mod path;
pub mod reply;
pub mod unstuff;

pub use command::{
    BodyType, Command, CommandError, MailParameters, Parameter, ParameterError, Parameters,
    parse_command,
};
pub use path::PathError;
pub use reply::{EnhancedCode, MAX_REPLY_LINE, ReplyError, encode_reply_line};
pub use unstuff::{BareLineEndings, DataError, Decoded, MAX_TEXT_LINE, Unstuffer};
