//! Arm PL011 UART: enough for a kernel console with input.
//!
//! The firmware (or QEMU) has already set the baud rate; this driver only
//! makes sure the transmitter and receiver are enabled, writes bytes
//! (turning `\n` into `\r\n`) and reads what arrived, with an interrupt
//! when input waits. The base address comes from the device tree, never from a board
//! `cfg`.

#![no_std]

use core::fmt;
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite};
use tock_registers::{register_bitfields, register_structs};

/// Bytes of registers this driver uses (DR to ICR): a device tree's `reg`
/// must reach that far (the Raspberry Pi's PL011 `reg` is 0x200 bytes).
pub const REGISTER_BYTES: u64 = 0x48;

/// Offset of `UARTPeriphID0`; the four peripheral and four PrimeCell ID
/// registers follow, one byte each in a word (PL011 TRM, 3.3.14-15).
pub const PERIPH_ID_OFFSET: usize = 0xfe0;

/// Whether the eight ID bytes (`UARTPeriphID0..3`, `UARTPCellID0..3`) are a
/// PL011's: part number 0x011, designer 0x41 (Arm), PrimeCell 0xB105F00D.
pub fn is_pl011_id(id: [u8; 8]) -> bool {
    let part = u16::from(id[0]) | (u16::from(id[1] & 0xf) << 8);
    let designer = (id[1] >> 4) | ((id[2] & 0xf) << 4);
    part == 0x011 && designer == 0x41 && id[4..] == [0x0d, 0xf0, 0x05, 0xb1]
}

register_bitfields! { u32,
    FR [
        /// Transmit FIFO full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// Receive FIFO empty.
        RXFE OFFSET(4) NUMBITS(1) [],
        /// UART busy transmitting.
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    CR [
        UARTEN OFFSET(0) NUMBITS(1) [],
        TXE OFFSET(8) NUMBITS(1) [],
        RXE OFFSET(9) NUMBITS(1) []
    ],
    /// Data register as read: the byte and its receive errors.
    DR [
        DATA OFFSET(0) NUMBITS(8) [],
        /// The receive FIFO was full and a byte was lost before this one.
        OE OFFSET(11) NUMBITS(1) []
    ],
    /// Interrupt mask set/clear, and interrupt clear.
    INT [
        /// Receive (FIFO at its trigger level).
        RX OFFSET(4) NUMBITS(1) [],
        /// Receive timeout (input waits below the trigger level).
        RT OFFSET(6) NUMBITS(1) []
    ]
}

register_structs! {
    Registers {
        (0x00 => dr: ReadWrite<u32, DR::Register>),
        (0x04 => _reserved0),
        (0x18 => fr: ReadOnly<u32, FR::Register>),
        (0x1c => _reserved1),
        (0x30 => cr: ReadWrite<u32, CR::Register>),
        (0x34 => _reserved2),
        (0x38 => imsc: ReadWrite<u32, INT::Register>),
        (0x3c => _reserved3),
        (0x44 => icr: ReadWrite<u32, INT::Register>),
        (0x48 => @END),
    }
}

/// A PL011 at a mapped address.
pub struct Pl011 {
    regs: *const Registers,
}

// SAFETY: the UART is a device with its own hardware FIFO; callers that share
// it between cores serialise access (the kernel gives it one owner).
unsafe impl Send for Pl011 {}

impl Pl011 {
    /// # Safety
    /// `base` must be the address of PL011 registers, mapped as device
    /// memory, for as long as the driver is used.
    pub const unsafe fn new(base: usize) -> Self {
        Pl011 { regs: base as *const Registers }
    }

    fn regs(&self) -> &Registers {
        // SAFETY: `new`'s contract: `regs` points at live, mapped PL011 registers.
        unsafe { &*self.regs }
    }

    /// Enables the receiver and its interrupts (received data, and the
    /// timeout that reports input below the FIFO's trigger level).
    pub fn enable_input(&self) {
        self.regs().cr.modify(CR::RXE::SET);
        self.regs().icr.write(INT::RX::SET + INT::RT::SET);
        self.regs().imsc.modify(INT::RX::SET + INT::RT::SET);
    }

    /// The next received byte, if any, and whether input was lost before
    /// it because the FIFO overran (a read empties the FIFO, which drops
    /// the receive interrupts).
    pub fn receive(&self) -> Option<(u8, bool)> {
        if self.regs().fr.is_set(FR::RXFE) {
            return None;
        }
        let dr = self.regs().dr.extract();
        Some((dr.read(DR::DATA) as u8, dr.is_set(DR::OE)))
    }

    /// Enables the UART and its transmitter if the firmware left them off.
    pub fn enable(&self) {
        self.regs().cr.modify(CR::UARTEN::SET + CR::TXE::SET);
    }

    /// Writes one byte, waiting while the FIFO is full.
    pub fn put(&self, byte: u8) {
        while self.regs().fr.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        self.regs().dr.set(u32::from(byte));
    }

    /// Writes `bytes`, expanding `\n` to `\r\n`.
    pub fn write_bytes(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
    }

    /// Waits until every queued byte has left the UART.
    pub fn flush(&self) {
        while self.regs().fr.is_set(FR::BUSY) {
            core::hint::spin_loop();
        }
    }
}

impl fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}
