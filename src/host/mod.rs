//! Host transports over std sockets.
