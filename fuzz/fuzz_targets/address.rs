//! Validates arbitrary strings as mailboxes and domains and encodes them
//! into commands, checking that every accepted command is one line.
#![no_main]

use embedded_smtp::codec::{Command, MailParams, validate_domain, validate_mailbox};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let mailbox_valid = validate_mailbox(text).is_ok();
    let domain_valid = validate_domain(text).is_ok();
    if mailbox_valid || domain_valid {
        assert!(!text.chars().any(char::is_control));
    }

    let commands = [
        Command::Ehlo(text),
        Command::Rcpt { to: text },
        Command::Mail {
            from: text,
            params: MailParams::default(),
        },
    ];
    for command in commands {
        let mut out = [0u8; 512];
        if let Ok(len) = command.encode(&mut out) {
            let line = &out[..len];
            assert!(line.ends_with(b"\r\n"));
            let content = &line[..len - 2];
            assert!(!content.contains(&b'\r'));
            assert!(!content.contains(&b'\n'));
        }
    }
});
