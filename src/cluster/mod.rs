//! What the nodes share: the ring (consistent hashing, preference lists), the key table and
//! the network model that carries their messages.

pub mod keyspace;
pub mod network;
pub mod ring;
