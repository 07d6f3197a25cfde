//! End-to-end tests of the `yuanjiang` binary: the commands as a newcomer
//! runs them, on a real SQLite file and a real listening socket.

mod audit;
mod cli;
mod users;
