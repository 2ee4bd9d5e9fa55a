//! Identifier newtypes shared across modules, so that no bare integer crosses a module boundary.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $inner);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(/// A simulated storage node.
    NodeId(u32), "n");
id_type!(/// A simulated client (a session issuing requests).
    ClientId(u32), "c");
id_type!(/// An interned key; its name and ring position live in the key table.
    KeyId(u32), "k");
id_type!(/// One client write, numbered globally in issue order (ancestors have smaller ids).
    WriteId(u64), "w");
id_type!(/// A request as known to its coordinator (unique per run).
    RequestId(u64), "r");
id_type!(/// One message handed to the network (a duplicate keeps its original's id).
    MessageId(u64), "m");

/// Where a message can go: a node or a client.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Node(NodeId),
    Client(ClientId),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Node(n) => n.fmt(f),
            Endpoint::Client(c) => c.fmt(f),
        }
    }
}
