//! Local endpoints: numbered mailboxes any program of the node may send
//! to or receive from; bounded queues of whole messages.

use heapless::Deque;
use user_abi::{ENDPOINTS, ENDPOINT_DEPTH, MESSAGE_BYTES};

#[derive(Clone, Copy)]
pub struct Message {
    pub len: usize,
    pub bytes: [u8; MESSAGE_BYTES],
}

pub struct Endpoints {
    queues: [Deque<Message, ENDPOINT_DEPTH>; ENDPOINTS as usize],
}

impl Endpoints {
    pub const fn new() -> Self {
        Endpoints { queues: [const { Deque::new() }; ENDPOINTS as usize] }
    }

    pub fn queue(&mut self, endpoint: usize) -> Option<&mut Deque<Message, ENDPOINT_DEPTH>> {
        self.queues.get_mut(endpoint)
    }
}
