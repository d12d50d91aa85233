//! SMTP and LMTP client sessions.
