//! What the nodes share: the ring (consistent hashing, preference lists), the key table,
//! the messages they exchange and the network model that carries them.

pub mod keyspace;
pub mod message;
pub mod network;
pub mod ring;
